//! CRM, interactions and knowledge-base bodies of `/api/v1`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

#[cfg(feature = "openapi")]
use utoipa::{IntoParams, ToSchema};

/// Kinds of tenant-defined customer fields.
pub const FIELD_KINDS: [&str; 8] = [
    "text",
    "number",
    "date",
    "choice",
    "multi_choice",
    "phone",
    "email",
    "address",
];

/// One field of the tenant's customer profile template.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CustomerFieldDto {
    pub id: Uuid,
    /// Stable key under which values are stored (`a-z0-9_`).
    pub key: String,
    pub label: String,
    /// One of [`FIELD_KINDS`].
    pub kind: String,
    pub required: bool,
    /// Choices, for `choice` and `multi_choice`.
    pub options: Vec<String>,
    pub position: i32,
    /// Deactivated fields keep their values but are no longer shown or required.
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CustomerFieldInput {
    pub key: String,
    pub label: String,
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub position: i32,
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct PhoneDto {
    /// E.164 on output; on input any common notation, normalised with the tenant's country code.
    pub number: String,
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CustomerDto {
    pub id: Uuid,
    pub name: String,
    pub phones: Vec<PhoneDto>,
    /// Values by field key.
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: serde_json::Map<String, serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CustomerInput {
    pub name: String,
    #[serde(default)]
    pub phones: Vec<PhoneDto>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// Screen pop: who is calling from `number`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CustomerLookup {
    /// The number as normalised (E.164).
    pub number: String,
    /// Every customer with this number (usually one; none for a new caller).
    pub matches: Vec<CustomerDto>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct MergeCustomers {
    /// The duplicate to fold into the customer in the path.
    pub duplicate_id: Uuid,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct LookupQuery {
    pub phone: String,
}

/// A node of the request category tree.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CategoryDto {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    /// The name in other languages (language code → name: az, en, pl, ru, zh).
    #[serde(default)]
    pub name_i18n: crate::names::Translations,
    pub position: i32,
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CategoryInput {
    pub name: String,
    /// The name in other languages (language code → name: az, en, pl, ru, zh).
    #[serde(default)]
    pub name_i18n: crate::names::Translations,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub position: i32,
    #[serde(default = "yes")]
    pub active: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InteractionDto {
    pub id: Uuid,
    pub customer_id: Option<Uuid>,
    /// `call`, `email`, `sms` or `manual`.
    pub channel: String,
    /// `inbound` or `outbound`.
    pub direction: String,
    pub category_id: Option<Uuid>,
    /// Names from the root to the category, e.g. ["Complaint", "Water", "Leak"].
    pub category_path: Vec<String>,
    /// The translations of each name in `category_path` (parallel to it).
    #[serde(default)]
    pub category_path_i18n: Vec<crate::names::Translations>,
    pub notes: String,
    pub agent_id: Option<Uuid>,
    pub call_id: Option<String>,
    pub phone: Option<String>,
    /// Knowledge-base articles used, with the version shown.
    pub articles: Vec<AttachedArticle>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttachedArticle {
    pub article_id: Uuid,
    pub title: String,
    pub version: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InteractionInput {
    #[serde(default)]
    pub customer_id: Option<Uuid>,
    pub channel: String,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    pub notes: String,
    #[serde(default)]
    pub call_id: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct InteractionUpdate {
    #[serde(default)]
    pub category_id: Option<Uuid>,
    #[serde(default)]
    pub notes: Option<String>,
    #[serde(default)]
    pub customer_id: Option<Uuid>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct AttachArticle {
    pub article_id: Uuid,
}

// ---------------------------------------------------------------- knowledge base

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbCategoryDto {
    pub id: Uuid,
    pub parent_id: Option<Uuid>,
    pub name: String,
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbCategoryInput {
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<Uuid>,
    #[serde(default)]
    pub position: i32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbArticleDto {
    pub id: Uuid,
    pub category_id: Uuid,
    pub title: String,
    /// Markdown; any HTML in it was sanitised on save.
    pub body: String,
    /// `draft`, `review`, `published` or `archived`.
    pub status: String,
    pub version: i32,
    pub author_id: Option<Uuid>,
    pub published_at: Option<DateTime<Utc>>,
    pub views: i64,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbArticleInput {
    pub category_id: Uuid,
    pub title: String,
    pub body: String,
    /// What changed, for the version history.
    #[serde(default)]
    pub note: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbVersionDto {
    pub version: i32,
    pub title: String,
    pub body: String,
    pub author_id: Option<Uuid>,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

/// A workflow step: `submit` (draft → review), `approve` (review → published), `reject`
/// (review → draft), `archive`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbTransition {
    pub action: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(IntoParams))]
pub struct KbSearchQuery {
    pub q: String,
    /// Include drafts and articles in review (needs `kb.write`).
    pub all: Option<bool>,
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbSearchHit {
    pub id: Uuid,
    pub category_id: Uuid,
    pub title: String,
    /// An excerpt with matches between `<mark>` and `</mark>`; everything else HTML-escaped.
    pub snippet: String,
    pub status: String,
    pub rank: f32,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbSearchResult {
    pub hits: Vec<KbSearchHit>,
    /// Query words that matched nothing and what they were read as (typo tolerance).
    pub corrections: Vec<(String, String)>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbDiffLine {
    /// `=` unchanged, `-` only in `from`, `+` only in `to`.
    pub op: String,
    pub text: String,
}

/// What an uploaded CSV looks like, to build the column mapping.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportPreview {
    pub columns: Vec<String>,
    /// Up to five first data rows.
    pub sample: Vec<Vec<String>>,
    /// Data rows (header excluded).
    pub rows: usize,
    /// `,` or `;` (detected from the header).
    pub delimiter: String,
}

/// One row that was not imported, with why.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportRowError {
    /// Line in the file (the header is line 1).
    pub line: usize,
    pub errors: Vec<crate::api::FieldError>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct ImportReport {
    pub imported: usize,
    pub failed: Vec<ImportRowError>,
}

/// The tenant's CRM settings (`/settings/crm`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct CrmSettings {
    /// Country calling code used to read national numbers ("994" for Azerbaijan, "48" for
    /// Poland); absent means only international notation is accepted.
    pub country_code: Option<String>,
}

/// The knowledge base's search language (`/settings/kb`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "openapi", derive(ToSchema))]
pub struct KbSettings {
    /// A Postgres text-search configuration: `simple` (no stemming; right for az, zh), or
    /// `english`, `russian`, … (see `GET` for the list).
    pub language: String,
    /// Configurations this database offers (read-only).
    #[serde(default)]
    pub available: Vec<String>,
}
