//! Customer import and export: CSV and XLSX files read into one table shape, the column
//! mapping, per-row checks with the API's own validation, batched inserts (`UNNEST`), and
//! background jobs with progress for large files. The HTTP handlers live in `routes::crm`.

use crate::{
    auth::{write_audit, RequestMeta},
    db,
    error::{ApiError, ApiResult},
    routes::crm::{check_customer_with, search_text},
    state::AppState,
    validate::Check,
};
use hotline_wire::{
    api::FieldError,
    crm::{CustomerFieldDto, CustomerInput, ImportRowError, PhoneDto},
    crm_import::{ImportJobDto, JOB_MAX_ERRORS},
};
use serde_json::{Map, Value};
use sqlx::PgConnection;
use uuid::Uuid;

/// Largest file accepted (about a million short CSV rows).
pub const IMPORT_MAX_BYTES: usize = 64 * 1024 * 1024;
/// Most data rows in one import.
pub const IMPORT_MAX_ROWS: usize = 200_000;
/// Files with more data rows than this run as a background job (unless `mode=sync`).
pub const SYNC_MAX_ROWS: usize = 2_000;
/// Customers inserted per statement (and per job transaction).
pub const BATCH_ROWS: usize = 500;
pub const XLSX_CONTENT_TYPE: &str =
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Xlsx,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }
}

/// One cell as the file typed it (CSV cells are all text).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    Bool(bool),
    /// A spreadsheet date or date-time (from an Excel serial date).
    Date(chrono::NaiveDateTime),
    /// A spreadsheet error value such as `#DIV/0!`.
    Error(String),
}

impl Cell {
    /// The cell as text: integral numbers without a fraction (phone numbers typed as
    /// numbers), dates as ISO dates (with the time when it is not midnight).
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Date(d) if d.time() == chrono::NaiveTime::MIN => d.date().to_string(),
            Cell::Date(d) => d.format("%Y-%m-%d %H:%M:%S").to_string(),
            Cell::Error(e) => e.clone(),
        }
    }

    /// The value handed to the template check for a field of `kind`; `None` when empty.
    fn value(&self, kind: &str) -> Result<Option<Value>, String> {
        match (self, kind) {
            (Cell::Error(e), _) => Err(format!("the cell holds the spreadsheet error {e}")),
            (Cell::Number(n), "number") => Ok(serde_json::Number::from_f64(*n).map(Value::Number)),
            (Cell::Date(d), "date") => Ok(Some(Value::from(d.date().to_string()))),
            _ => {
                let t = self.text();
                Ok(match kind {
                    _ if t.is_empty() => None,
                    "multi_choice" => Some(Value::from(
                        t.split('|')
                            .map(|x| x.trim().to_string())
                            .collect::<Vec<_>>(),
                    )),
                    _ => Some(Value::from(t)),
                })
            }
        }
    }
}

/// A data row: its line in the file (header = line 1; in a sheet, the sheet's row number)
/// and its cells, or why the row cannot be read at all.
#[derive(Debug, Clone)]
pub struct Row {
    pub line: usize,
    pub cells: Result<Vec<Cell>, String>,
}

/// An uploaded file read into columns and rows.
#[derive(Debug)]
pub struct Table {
    pub format: Format,
    /// CSV only: `,` or `;`.
    pub delimiter: Option<u8>,
    pub columns: Vec<String>,
    pub rows: Vec<Row>,
}

impl Table {
    /// The first column whose header is one of `names` (lower case; headers are compared
    /// trimmed and case-insensitively).
    pub fn column(&self, names: &[&str]) -> Option<usize> {
        self.columns
            .iter()
            .position(|c| names.contains(&c.trim().to_lowercase().as_str()))
    }
}

fn bad_xlsx(detail: impl std::fmt::Display) -> ApiError {
    ApiError::BadRequest {
        code: "bad_xlsx",
        detail: format!("The file cannot be read as an XLSX workbook: {detail}"),
    }
}

/// Picks the format from the content (a ZIP signature means XLSX) and the content type; a
/// body that claims to be XLSX but is not a ZIP file is refused rather than read as CSV.
pub fn detect(content_type: Option<&str>, bytes: &[u8]) -> ApiResult<Format> {
    let ct = content_type.unwrap_or_default().to_ascii_lowercase();
    if bytes.starts_with(b"\xD0\xCF\x11\xE0") {
        return Err(ApiError::BadRequest {
            code: "unsupported_format",
            detail: "Excel 97–2003 (.xls) files are not supported; save the sheet as .xlsx or CSV UTF-8.".into(),
        });
    }
    if bytes.starts_with(b"PK\x03\x04") {
        Ok(Format::Xlsx)
    } else if ct.starts_with(XLSX_CONTENT_TYPE) || ct.starts_with("application/vnd.ms-excel") {
        Err(bad_xlsx("it is not a ZIP container (no XLSX signature)"))
    } else {
        Ok(Format::Csv)
    }
}

/// Reads the upload. CPU-bound: call it on the blocking pool ([`read_blocking`]).
pub fn read(format: Format, bytes: &[u8]) -> ApiResult<Table> {
    let table = match format {
        Format::Csv => read_csv(bytes)?,
        Format::Xlsx => read_xlsx(bytes)?,
    };
    if table.rows.len() > IMPORT_MAX_ROWS {
        return Err(ApiError::BadRequest {
            code: "too_many_rows",
            detail: format!("At most {IMPORT_MAX_ROWS} rows per import; split the file."),
        });
    }
    refuse_nul(&table)?;
    Ok(table)
}

/// A header or cell holding NUL (which Postgres cannot store) refuses the file: a 422 on
/// `file` naming the line and column.
fn refuse_nul(table: &Table) -> ApiResult<()> {
    let nul = crate::validate::bad_char_message('\0');
    if let Some(i) = table.columns.iter().position(|c| c.contains('\0')) {
        return Err(ApiError::field(
            "file",
            format!("header, column {}: {nul}", i + 1),
        ));
    }
    for row in &table.rows {
        let Ok(cells) = &row.cells else { continue };
        if let Some(i) = cells
            .iter()
            .position(|c| matches!(c, Cell::Text(t) | Cell::Error(t) if t.contains('\0')))
        {
            let column = table.columns.get(i).map(String::as_str).unwrap_or("");
            return Err(ApiError::field(
                "file",
                format!("line {}, column {} ({column}): {nul}", row.line, i + 1),
            ));
        }
    }
    Ok(())
}

/// [`read`] off the async runtime; a panic in a parser becomes a 400, never a dead request.
pub async fn read_blocking(format: Format, bytes: axum::body::Bytes) -> ApiResult<Table> {
    tokio::task::spawn_blocking(move || read(format, &bytes))
        .await
        .unwrap_or_else(|e| {
            tracing::warn!(error = %e, "import parser failed");
            Err(match format {
                Format::Xlsx => bad_xlsx("the workbook is damaged"),
                Format::Csv => ApiError::BadRequest {
                    code: "bad_csv",
                    detail: "The file cannot be read as CSV.".into(),
                },
            })
        })
}

/// Decodes the upload (UTF-8, optional BOM) and picks `;` or `,` from the header line.
fn read_csv(bytes: &[u8]) -> ApiResult<Table> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| ApiError::BadRequest {
        code: "bad_encoding",
        detail: format!(
            "The file is not UTF-8 text (byte {}); save it as CSV UTF-8.",
            e.valid_up_to()
        ),
    })?;
    let header = text.lines().next().unwrap_or_default();
    if header.trim().is_empty() {
        return Err(empty_file());
    }
    let delim = if header.matches(';').count() > header.matches(',').count() {
        b';'
    } else {
        b','
    };
    let mut r = csv::ReaderBuilder::new()
        .delimiter(delim)
        .flexible(false)
        .from_reader(text.as_bytes());
    let columns = r
        .headers()
        .map_err(|e| ApiError::BadRequest {
            code: "bad_csv",
            detail: format!("The header line cannot be read: {e}"),
        })?
        .iter()
        .map(|c| c.trim().to_string())
        .collect();
    let rows = r
        .records()
        .enumerate()
        .map(|(n, rec)| Row {
            line: n + 2,
            cells: rec
                .map(|rec| rec.iter().map(|c| Cell::Text(c.to_string())).collect())
                .map_err(|e| match e.kind() {
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("has {len} cells, the header has {expected_len}"),
                    _ => format!("cannot be read: {e}"),
                }),
        })
        .collect();
    Ok(Table {
        format: Format::Csv,
        delimiter: Some(delim),
        columns,
        rows,
    })
}

fn empty_file() -> ApiError {
    ApiError::BadRequest {
        code: "empty_file",
        detail: "The file has no header line.".into(),
    }
}

/// The first sheet: its first non-empty row is the header; wholly empty rows are skipped.
fn read_xlsx(bytes: &[u8]) -> ApiResult<Table> {
    use calamine::{Data, Reader, Xlsx};
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(bad_xlsx)?;
    let range = book
        .worksheet_range_at(0)
        .ok_or_else(|| bad_xlsx("it has no worksheet"))?
        .map_err(bad_xlsx)?;
    let first_row = range.start().map(|(r, _)| r as usize).unwrap_or(0);
    let cell = |d: &Data| match d {
        Data::Empty => Cell::Empty,
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Bool(b) => Cell::Bool(*b),
        Data::DateTime(d) => match d.as_datetime() {
            Some(dt) if d.is_datetime() => Cell::Date(dt),
            _ => Cell::Number(d.as_f64()),
        },
        Data::Error(e) => Cell::Error(e.to_string()),
    };
    let mut rows = range
        .rows()
        .enumerate()
        .filter(|(_, r)| r.iter().any(|d| !matches!(d, Data::Empty)))
        .map(|(i, r)| Row {
            line: first_row + i + 1,
            cells: Ok(r.iter().map(cell).collect::<Vec<_>>()),
        });
    let header = rows.next().ok_or_else(empty_file)?;
    let mut columns: Vec<String> = header
        .cells
        .unwrap_or_default()
        .iter()
        .map(Cell::text)
        .collect();
    // Cells right of the last header are ignored, as a sheet user would expect.
    while columns.last().is_some_and(String::is_empty) {
        columns.pop();
    }
    if columns.is_empty() {
        return Err(empty_file());
    }
    let width = columns.len();
    let rows = rows
        .map(|mut r| {
            if let Ok(c) = &mut r.cells {
                c.truncate(width);
            }
            r
        })
        .collect();
    Ok(Table {
        format: Format::Xlsx,
        delimiter: None,
        columns,
        rows,
    })
}

// ------------------------------------------------------------------ mapping and checks

/// Synchronous answer or background job.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Auto,
    Sync,
    Job,
}

/// Everything needed to check and insert rows: owned, so a job task can keep it.
pub struct Plan {
    pub template: Vec<CustomerFieldDto>,
    pub cc: Option<String>,
    name: usize,
    phones: Vec<usize>,
    /// (key, kind, column)
    fields: Vec<(String, String, usize)>,
}

/// Resolves `name=<column>`, `phone=<column>` (repeatable), `field.<key>=<column>` and
/// `mode=auto|sync|job` to column indexes, refusing anything unknown before a row is read.
pub fn plan(
    columns: &[String],
    template: Vec<CustomerFieldDto>,
    cc: Option<String>,
    query: &[(String, String)],
) -> ApiResult<(Plan, Mode)> {
    let mut c = Check::new();
    let short = |s: &str| s.chars().take(60).collect::<String>();
    let col = |c: &mut Check, key: &str, name: &str| -> Option<usize> {
        let i = columns.iter().position(|h| h == name);
        if i.is_none() {
            c.fail(
                &format!("mapping.{key}"),
                format!("there is no column '{}'", short(name)),
            );
        }
        i
    };
    let mut mode = Mode::Auto;
    let mut name = None;
    let mut phones = vec![];
    let mut fields = vec![];
    for (k, v) in query {
        if k == "mode" {
            match v.as_str() {
                "auto" => mode = Mode::Auto,
                "sync" => mode = Mode::Sync,
                "job" => mode = Mode::Job,
                _ => c.fail("mode", "must be auto, sync or job"),
            }
        } else if k == "name" {
            name = col(&mut c, k, v);
        } else if k == "phone" {
            phones.extend(col(&mut c, k, v));
        } else if let Some(key) = k.strip_prefix("field.") {
            match template.iter().find(|f| f.key == key && f.active) {
                Some(f) => {
                    if let Some(i) = col(&mut c, k, v) {
                        fields.push((f.key.clone(), f.kind.clone(), i));
                    }
                }
                None => c.fail(
                    &format!("mapping.{}", short(k)),
                    "is not an active field of the customer template",
                ),
            }
        } else {
            c.fail(
                &format!("mapping.{}", short(k)),
                "use name, phone or field.<key>",
            );
        }
    }
    if name.is_none() && !query.iter().any(|(k, _)| k == "name") {
        c.fail("mapping.name", "map a column to the customer's name");
    }
    c.finish()?;
    Ok((
        Plan {
            template,
            cc,
            name: name.unwrap_or_default(),
            phones,
            fields,
        },
        mode,
    ))
}

/// A row that passed the checks, ready to insert.
pub struct Valid {
    id: Uuid,
    name: String,
    phones: Vec<PhoneDto>,
    values: Map<String, Value>,
}

impl Plan {
    /// Checks one row with the API's validation (`check_customer_with`); a cell whose type
    /// cannot fill its field (a spreadsheet error) is reported under that field.
    fn check(&self, row: &Row) -> Result<Valid, ImportRowError> {
        let fail = |errors| ImportRowError {
            line: row.line,
            errors,
        };
        let cells = row.cells.as_ref().map_err(|message| {
            fail(vec![FieldError {
                field: "row".into(),
                message: message.clone(),
            }])
        })?;
        let cell = |i: usize| cells.get(i).unwrap_or(&Cell::Empty);
        let mut cell_errors = vec![];
        let mut fields = Map::new();
        for (key, kind, i) in &self.fields {
            match cell(*i).value(kind) {
                Ok(Some(v)) => {
                    fields.insert(key.clone(), v);
                }
                Ok(None) => {}
                Err(message) => cell_errors.push(FieldError {
                    field: format!("fields.{key}"),
                    message,
                }),
            }
        }
        let input = CustomerInput {
            name: cell(self.name).text(),
            phones: self
                .phones
                .iter()
                .map(|i| cell(*i).text())
                .filter(|p| !p.is_empty())
                .map(|number| PhoneDto {
                    number,
                    label: String::new(),
                })
                .collect(),
            fields,
        };
        match check_customer_with(&self.template, self.cc.as_deref(), &input, None) {
            Ok((name, phones, values)) if cell_errors.is_empty() => Ok(Valid {
                id: Uuid::new_v4(),
                name,
                phones,
                values,
            }),
            Ok(_) => Err(fail(cell_errors)),
            Err(ApiError::Validation(mut errors)) => {
                errors.retain(|e| !cell_errors.iter().any(|c| c.field == e.field));
                errors.extend(cell_errors);
                errors.sort_by(|a, b| a.field.cmp(&b.field));
                Err(fail(errors))
            }
            Err(e) => Err(fail(vec![FieldError {
                field: "row".into(),
                message: e.to_problem().title,
            }])),
        }
    }

    /// Checks `rows` and inserts the valid ones in one statement per table; returns how many
    /// were imported and the bad rows.
    pub async fn import_batch(
        &self,
        conn: &mut PgConnection,
        rows: &[Row],
    ) -> ApiResult<(usize, Vec<ImportRowError>)> {
        let mut ok = vec![];
        let mut bad = vec![];
        for r in rows {
            match self.check(r) {
                Ok(v) => ok.push(v),
                Err(e) => bad.push(e),
            }
        }
        insert_batch(conn, &ok).await?;
        Ok((ok.len(), bad))
    }
}

/// Inserts validated customers and their numbers: two `INSERT … SELECT FROM UNNEST` in all.
async fn insert_batch(conn: &mut PgConnection, batch: &[Valid]) -> ApiResult<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = batch.iter().map(|v| v.id).collect();
    let names: Vec<&str> = batch.iter().map(|v| v.name.as_str()).collect();
    let texts: Vec<String> = batch
        .iter()
        .map(|v| search_text(&v.name, &v.phones, &v.values))
        .collect();
    let fields: Vec<Value> = batch
        .iter()
        .map(|v| Value::Object(v.values.clone()))
        .collect();
    sqlx::query(
        "INSERT INTO customers (id, name, fields, search_text)
         SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::jsonb[], $4::text[])",
    )
    .bind(&ids)
    .bind(&names)
    .bind(&fields)
    .bind(&texts)
    .execute(&mut *conn)
    .await?;
    let (mut owners, mut numbers, mut labels) = (vec![], vec![], vec![]);
    for v in batch {
        for p in &v.phones {
            owners.push(v.id);
            numbers.push(p.number.as_str());
            labels.push(p.label.as_str());
        }
    }
    if !owners.is_empty() {
        sqlx::query(
            "INSERT INTO customer_phones (customer_id, number, label)
             SELECT * FROM UNNEST($1::uuid[], $2::text[], $3::text[])",
        )
        .bind(&owners)
        .bind(&numbers)
        .bind(&labels)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

// ------------------------------------------------------------------ jobs

#[derive(sqlx::FromRow)]
struct JobRow {
    id: Uuid,
    status: String,
    format: String,
    total: i32,
    processed: i32,
    imported: i32,
    failed_count: i32,
    failed: sqlx::types::Json<Vec<ImportRowError>>,
    error: Option<String>,
    created_at: chrono::DateTime<chrono::Utc>,
    updated_at: chrono::DateTime<chrono::Utc>,
    finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A running job that has not moved for this long is reported `interrupted` (its server
/// stopped); computed on read, so no reaper is needed.
const JOB_STALE: &str = "5 minutes";

fn job(r: JobRow) -> ImportJobDto {
    ImportJobDto {
        id: r.id,
        status: r.status,
        format: r.format,
        total: r.total as usize,
        processed: r.processed as usize,
        imported: r.imported as usize,
        failed_count: r.failed_count as usize,
        failed: r.failed.0,
        error: r.error,
        created_at: r.created_at,
        updated_at: r.updated_at,
        finished_at: r.finished_at,
    }
}

macro_rules! job_select {
    () => {
        "SELECT id, CASE WHEN status = 'running' AND updated_at < now() - $1::interval
                         THEN 'interrupted' ELSE status END AS status,
                format, total, processed, imported, failed_count, failed, error,
                created_at, updated_at, finished_at
           FROM crm_import_jobs"
    };
}

pub async fn load_job(conn: &mut PgConnection, id: Uuid) -> ApiResult<ImportJobDto> {
    let row: Option<JobRow> = sqlx::query_as(concat!(job_select!(), " WHERE id = $2"))
        .bind(JOB_STALE)
        .bind(id)
        .fetch_optional(conn)
        .await?;
    row.map(job).ok_or(ApiError::NotFound)
}

/// The 20 newest jobs.
pub async fn recent_jobs(conn: &mut PgConnection) -> ApiResult<Vec<ImportJobDto>> {
    let rows: Vec<JobRow> = sqlx::query_as(concat!(
        job_select!(),
        " ORDER BY created_at DESC, id LIMIT 20"
    ))
    .bind(JOB_STALE)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(job).collect())
}

/// Records a new job (in the caller's request transaction).
pub async fn create_job(
    conn: &mut PgConnection,
    format: Format,
    total: usize,
    created_by: Option<Uuid>,
) -> ApiResult<ImportJobDto> {
    let id: Uuid = sqlx::query_scalar(
        "INSERT INTO crm_import_jobs (format, total, created_by) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(format.as_str())
    .bind(total as i32)
    .bind(created_by)
    .fetch_one(&mut *conn)
    .await?;
    load_job(conn, id).await
}

/// Who started a job, for the audit row written when it finishes.
pub struct JobOwner {
    pub schema: String,
    pub actor_id: Option<Uuid>,
    pub actor: String,
    pub meta: RequestMeta,
}

/// Runs a job to its end: each batch is checked, inserted and counted in its own
/// transaction, so progress is visible to `GET …/jobs/{id}` as it goes; the last transaction
/// writes the audit row and marks the job `done`. Rows of committed batches stay imported if a
/// later batch fails (the job then reads `failed` with the error).
pub async fn run_job(state: AppState, owner: JobOwner, id: Uuid, plan: Plan, rows: Vec<Row>) {
    let result = async {
        let (mut imported, mut failed, mut kept) = (0usize, 0usize, 0usize);
        let mut batches = rows.chunks(BATCH_ROWS).peekable();
        while let Some(batch) = batches.next() {
            let mut tx = db::begin_in_schema(&state.db, &owner.schema).await?;
            let (n, bad) = plan.import_batch(&mut tx, batch).await?;
            imported += n;
            failed += bad.len();
            let keep: Vec<_> = bad
                .into_iter()
                .take(JOB_MAX_ERRORS.saturating_sub(kept))
                .collect();
            kept += keep.len();
            let last = batches.peek().is_none();
            sqlx::query(
                "UPDATE crm_import_jobs SET processed = processed + $2, imported = imported + $3,
                        failed_count = failed_count + $4, failed = failed || $5, updated_at = now(),
                        status = CASE WHEN $6 THEN 'done' ELSE status END,
                        finished_at = CASE WHEN $6 THEN now() END
                  WHERE id = $1",
            )
            .bind(id)
            .bind(batch.len() as i32)
            .bind(n as i32)
            .bind((batch.len() - n) as i32)
            .bind(sqlx::types::Json(&keep))
            .bind(last)
            .execute(&mut *tx)
            .await?;
            if last {
                write_audit(
                    &mut tx,
                    owner.actor_id,
                    &owner.actor,
                    "customer.import.finished",
                    Some("crm_import_job"),
                    Some(id.to_string()),
                    serde_json::json!({ "imported": imported, "failed": failed }),
                    &owner.meta,
                )
                .await?;
            }
            tx.commit().await?;
        }
        Ok::<_, ApiError>(())
    }
    .await;
    if let Err(e) = result {
        tracing::error!(job = %id, error = ?e, "customer import job failed");
        let marked = async {
            let mut tx = db::begin_in_schema(&state.db, &owner.schema).await?;
            sqlx::query(
                "UPDATE crm_import_jobs SET status = 'failed', error = $2, updated_at = now(),
                        finished_at = now() WHERE id = $1",
            )
            .bind(id)
            .bind(e.to_problem().detail.unwrap_or(e.to_problem().title))
            .execute(&mut *tx)
            .await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = marked {
            tracing::error!(job = %id, error = %e, "could not mark the import job failed");
        }
    }
}

// ------------------------------------------------------------------ export

/// One exported cell: numbers and dates keep their type in XLSX.
pub enum Out {
    Text(String),
    Number(f64),
    Date(chrono::NaiveDate),
}

impl Out {
    /// The value of a template field of `kind` as exported (multi-choice joined with `|`).
    pub fn of(kind: &str, v: Option<&Value>) -> Out {
        match (kind, v) {
            (_, None | Some(Value::Null)) => Out::Text(String::new()),
            ("number", Some(Value::Number(n))) if n.as_f64().is_some() => {
                Out::Number(n.as_f64().unwrap_or_default())
            }
            ("date", Some(Value::String(s))) => {
                match chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                    Ok(d) => Out::Date(d),
                    Err(_) => Out::Text(s.clone()),
                }
            }
            (_, Some(Value::String(s))) => Out::Text(s.clone()),
            (_, Some(Value::Array(a))) => Out::Text(
                a.iter()
                    .filter_map(|x| x.as_str())
                    .collect::<Vec<_>>()
                    .join("|"),
            ),
            (_, Some(other)) => Out::Text(other.to_string()),
        }
    }

    fn text(&self) -> String {
        match self {
            Out::Text(s) => s.clone(),
            Out::Number(n) => serde_json::Number::from_f64(*n)
                .map(|n| n.to_string())
                .unwrap_or_default(),
            Out::Date(d) => d.to_string(),
        }
    }
}

/// Renders the header and rows as CSV.
pub fn write_csv(header: &[String], rows: &[Vec<Out>]) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(header).map_err(ApiError::internal)?;
    for r in rows {
        w.write_record(r.iter().map(Out::text))
            .map_err(ApiError::internal)?;
    }
    w.into_inner()
        .map_err(|e| ApiError::internal(anyhow::anyhow!("{e}")))
}

/// Renders the header and rows as an XLSX workbook with one sheet, `Customers`.
pub fn write_xlsx(header: &[String], rows: &[Vec<Out>]) -> ApiResult<Vec<u8>> {
    use rust_xlsxwriter::{ExcelDateTime, Format as XFormat, Workbook};
    const MAX_ROWS: usize = 1_048_575;
    if rows.len() > MAX_ROWS {
        return Err(ApiError::BadRequest {
            code: "too_many_rows",
            detail: format!("A sheet holds at most {MAX_ROWS} customers; export as CSV."),
        });
    }
    let xl = |e: rust_xlsxwriter::XlsxError| ApiError::internal(anyhow::anyhow!("xlsx: {e}"));
    let mut book = Workbook::new();
    let date = XFormat::new().set_num_format("yyyy-mm-dd");
    let bold = XFormat::new().set_bold();
    let sheet = book.add_worksheet();
    sheet.set_name("Customers").map_err(xl)?;
    for (c, h) in header.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, h, &bold)
            .map_err(xl)?;
    }
    for (r, row) in rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, v) in row.iter().enumerate() {
            let c = c as u16;
            match v {
                Out::Text(s) if s.is_empty() => {}
                Out::Text(s) => {
                    sheet.write_string(r, c, s).map_err(xl)?;
                }
                Out::Number(n) => {
                    sheet.write_number(r, c, *n).map_err(xl)?;
                }
                Out::Date(d) => {
                    use chrono::Datelike;
                    match ExcelDateTime::from_ymd(d.year() as u16, d.month() as u8, d.day() as u8) {
                        Ok(x) => sheet.write_datetime_with_format(r, c, x, &date),
                        // Outside Excel's calendar (before 1900): kept as text.
                        Err(_) => sheet.write_string(r, c, d.to_string()),
                    }
                    .map_err(xl)?;
                }
            }
        }
    }
    book.save_to_buffer().map_err(xl)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_become_field_values_by_kind() {
        let date = chrono::NaiveDate::from_ymd_opt(2024, 3, 15).unwrap();
        let midnight = Cell::Date(date.and_hms_opt(0, 0, 0).unwrap());
        assert_eq!(midnight.text(), "2024-03-15");
        assert_eq!(
            Cell::Date(date.and_hms_opt(9, 30, 0).unwrap()).text(),
            "2024-03-15 09:30:00"
        );
        assert_eq!(
            midnight.value("date").unwrap(),
            Some(Value::from("2024-03-15"))
        );
        assert_eq!(Cell::Number(994125550100.0).text(), "994125550100");
        assert_eq!(Cell::Number(2.5).value("number").unwrap(), Some(2.5.into()));
        assert_eq!(
            Cell::Number(7.0).value("text").unwrap(),
            Some(Value::from("7"))
        );
        assert_eq!(
            Cell::Text(" a | b ".into()).value("multi_choice").unwrap(),
            Some(serde_json::json!(["a", "b"]))
        );
        assert_eq!(Cell::Text("  ".into()).value("text").unwrap(), None);
        assert_eq!(Cell::Empty.value("number").unwrap(), None);
        let err = Cell::Error("#DIV/0!".into()).value("number").unwrap_err();
        assert!(err.contains("#DIV/0!"), "{err}");
    }

    #[test]
    fn format_comes_from_content_then_content_type() {
        assert_eq!(detect(None, b"PK\x03\x04rest").unwrap(), Format::Xlsx);
        assert_eq!(detect(Some("text/csv"), b"a,b\n").unwrap(), Format::Csv);
        assert!(matches!(
            detect(Some(XLSX_CONTENT_TYPE), b"a,b\n"),
            Err(ApiError::BadRequest {
                code: "bad_xlsx",
                ..
            })
        ));
        assert!(matches!(
            detect(None, b"\xD0\xCF\x11\xE0...."),
            Err(ApiError::BadRequest {
                code: "unsupported_format",
                ..
            })
        ));
    }
}
