//! Customer import jobs: a large CSV/XLSX import runs in the background and reports its
//! progress here (`GET /api/v1/customers/import/jobs/{id}`).

use crate::crm::ImportRowError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::ToSchema;

/// How many bad rows a job keeps with their reasons; `failed_count` counts them all.
pub const JOB_MAX_ERRORS: usize = 1000;

/// A background customer import and how far it is.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportJobDto {
    pub id: Uuid,
    /// `running`, `done`, `failed` (stopped by an error, see `error`; rows of batches already
    /// processed stay imported) or `interrupted` (no progress for five minutes, e.g. the
    /// server restarted).
    pub status: String,
    /// `csv` or `xlsx`.
    pub format: String,
    /// Data rows in the file.
    pub total: usize,
    /// Rows checked so far (imported or failed).
    pub processed: usize,
    pub imported: usize,
    pub failed_count: usize,
    /// The first bad rows (at most [`JOB_MAX_ERRORS`]), in file order.
    pub failed: Vec<ImportRowError>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
}
