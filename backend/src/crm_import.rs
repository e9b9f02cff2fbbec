//! Customer import and export: CSV and XLSX files read into one table shape, the column
//! mapping, per-row checks with the API's own validation, batched inserts (`UNNEST`), and
//! background jobs with progress for large files. The HTTP handlers live in `routes::crm`.

use crate::{
    auth::{write_audit, RequestMeta},
    crm::{check_customer_with, search_text},
    db,
    error::{ApiError, ApiResult},
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
/// Most columns in one import's header.
pub const IMPORT_MAX_COLUMNS: usize = 500;
/// Data rows a preview answers with (the rest are only counted).
pub const PREVIEW_ROWS: usize = 5;
/// Characters of one sample cell in a preview (longer cells end with `…`).
pub const PREVIEW_CELL_CHARS: usize = 200;
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

/// Reads the whole upload for an import. CPU-bound: call it on the blocking pool
/// ([`read_blocking`]).
pub fn read(format: Format, bytes: &[u8]) -> ApiResult<Table> {
    Ok(scan(format, bytes, &LIMITS, usize::MAX)?.0)
}

/// Reads an upload for a preview: the header, the first [`PREVIEW_ROWS`] data rows and how
/// many data rows there are. The whole file is still checked (row limit, NUL), but only the
/// first rows are kept.
pub fn preview(format: Format, bytes: &[u8]) -> ApiResult<(Table, usize)> {
    scan(format, bytes, &LIMITS, PREVIEW_ROWS)
}

/// The guards of one read; [`LIMITS`] in production, smaller ones in tests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Data rows (header excluded).
    pub max_rows: usize,
    /// Header columns.
    pub max_columns: usize,
    /// Characters of one column name.
    pub max_column_name: usize,
    /// Declared uncompressed size of one worksheet (streamed, so this bounds time).
    pub max_sheet_bytes: u64,
    /// Declared uncompressed size of any other part (shared strings, styles and the workbook
    /// are held in memory while the sheet is read, so this bounds memory).
    pub max_part_bytes: u64,
    /// Declared uncompressed size of all parts together.
    pub max_total_bytes: u64,
    /// Uncompressed : compressed, for parts of more than [`Limits::ratio_from`] bytes.
    pub max_ratio: u64,
    pub ratio_from: u64,
}

pub const LIMITS: Limits = Limits {
    max_rows: IMPORT_MAX_ROWS,
    max_columns: IMPORT_MAX_COLUMNS,
    max_column_name: 200,
    max_sheet_bytes: 256 << 20,
    max_part_bytes: 64 << 20,
    max_total_bytes: 320 << 20,
    max_ratio: 1000,
    ratio_from: 1 << 20,
};

fn too_many_rows(max: usize) -> ApiError {
    ApiError::BadRequest {
        code: "too_many_rows",
        detail: format!("At most {max} rows per import; split the file."),
    }
}

fn xlsx_too_large(detail: String) -> ApiError {
    ApiError::BadRequest {
        code: "xlsx_too_large",
        detail: format!("The workbook unpacks to too much data: {detail}. Save only the customers' sheet, or export it as CSV."),
    }
}

/// Collects the rows of one read as they stream by: counts them (refusing the file as soon as
/// there is one too many), refuses NUL, and keeps the first `keep` (`usize::MAX`: all; else
/// the first readable ones).
struct Sink {
    limits: Limits,
    columns: Vec<String>,
    keep: usize,
    rows: Vec<Row>,
    count: usize,
}

impl Sink {
    /// Checks the header: its size, the length of each name and NUL.
    fn new(limits: &Limits, columns: Vec<String>, keep: usize) -> ApiResult<Self> {
        if columns.len() > limits.max_columns {
            return Err(ApiError::BadRequest {
                code: "too_many_columns",
                detail: format!(
                    "The header has {} columns; at most {} per import.",
                    columns.len(),
                    limits.max_columns
                ),
            });
        }
        let nul = crate::text::bad_char_message('\0');
        for (i, c) in columns.iter().enumerate() {
            if c.contains('\0') {
                return Err(ApiError::field(
                    "file",
                    format!("header, column {}: {nul}", i + 1),
                ));
            }
            if c.chars().count() > limits.max_column_name {
                return Err(ApiError::field(
                    "file",
                    format!(
                        "header, column {}: a column name has at most {} characters",
                        i + 1,
                        limits.max_column_name
                    ),
                ));
            }
        }
        Ok(Sink {
            limits: *limits,
            columns,
            keep,
            rows: vec![],
            count: 0,
        })
    }

    fn push(&mut self, row: Row) -> ApiResult<()> {
        self.count += 1;
        if self.count > self.limits.max_rows {
            return Err(too_many_rows(self.limits.max_rows));
        }
        if let Ok(cells) = &row.cells {
            if let Some(i) = cells
                .iter()
                .position(|c| matches!(c, Cell::Text(t) | Cell::Error(t) if t.contains('\0')))
            {
                let column = self.columns.get(i).map(String::as_str).unwrap_or("");
                return Err(ApiError::field(
                    "file",
                    format!(
                        "line {}, column {} ({column}): {}",
                        row.line,
                        i + 1,
                        crate::text::bad_char_message('\0')
                    ),
                ));
            }
        }
        // A preview's sample is made of readable rows; an import keeps every row.
        if self.rows.len() < self.keep && (self.keep == usize::MAX || row.cells.is_ok()) {
            self.rows.push(row);
        }
        Ok(())
    }

    fn finish(self, format: Format, delimiter: Option<u8>) -> (Table, usize) {
        (
            Table {
                format,
                delimiter,
                columns: self.columns,
                rows: self.rows,
            },
            self.count,
        )
    }
}

/// One pass over the file as a stream: the read stops at the first row over the limit, and
/// only the first `keep` rows are held. Returns the table and the number of data rows.
pub fn scan(
    format: Format,
    bytes: &[u8],
    limits: &Limits,
    keep: usize,
) -> ApiResult<(Table, usize)> {
    match format {
        Format::Csv => read_csv(bytes, limits, keep),
        Format::Xlsx => read_xlsx(bytes, limits, keep),
    }
}

/// [`read`] off the async runtime; a panic in a parser becomes a 400, never a dead request.
pub async fn read_blocking(format: Format, bytes: axum::body::Bytes) -> ApiResult<Table> {
    blocking(format, move || read(format, &bytes)).await
}

/// [`preview`] off the async runtime, like [`read_blocking`].
pub async fn preview_blocking(
    format: Format,
    bytes: axum::body::Bytes,
) -> ApiResult<(Table, usize)> {
    blocking(format, move || preview(format, &bytes)).await
}

async fn blocking<T: Send + 'static>(
    format: Format,
    f: impl FnOnce() -> ApiResult<T> + Send + 'static,
) -> ApiResult<T> {
    tokio::task::spawn_blocking(f).await.unwrap_or_else(|e| {
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

/// Decodes the upload (UTF-8, optional BOM) and picks `;` or `,` from the header line; the
/// records are read one by one.
fn read_csv(bytes: &[u8], limits: &Limits, keep: usize) -> ApiResult<(Table, usize)> {
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
    let mut sink = Sink::new(limits, columns, keep)?;
    let mut record = csv::StringRecord::new();
    let mut line = 1;
    loop {
        line += 1;
        let cells = match r.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => Ok(record.iter().map(|c| Cell::Text(c.to_string())).collect()),
            Err(e) => Err(match e.kind() {
                csv::ErrorKind::UnequalLengths {
                    expected_len, len, ..
                } => format!("has {len} cells, the header has {expected_len}"),
                _ => format!("cannot be read: {e}"),
            }),
        };
        sink.push(Row { line, cells })?;
    }
    Ok(sink.finish(Format::Csv, Some(delim)))
}

fn empty_file() -> ApiError {
    ApiError::BadRequest {
        code: "empty_file",
        detail: "The file has no header line.".into(),
    }
}

/// One entry of a ZIP's central directory: its name and declared sizes.
#[derive(Debug, PartialEq)]
struct ZipEntry {
    name: String,
    compressed: u64,
    uncompressed: u64,
}

/// The entries of a ZIP file, read from its central directory (ZIP64 included) without
/// unpacking anything; `None` when there is no readable directory. The `zip` crate that
/// `calamine` uses stops any entry at its declared uncompressed size, so these sizes bound
/// what unpacking can produce.
fn zip_entries(b: &[u8]) -> Option<Vec<ZipEntry>> {
    let le = |p: usize, n: usize| -> Option<u64> {
        let s = b.get(p..p.checked_add(n)?)?;
        Some(s.iter().rev().fold(0u64, |a, &x| (a << 8) | u64::from(x)))
    };
    let last = b.len().checked_sub(22)?;
    let eocd = (last.saturating_sub(0xFFFF)..=last)
        .rev()
        .find(|&p| b[p..].starts_with(b"PK\x05\x06"))?;
    let mut count = le(eocd + 10, 2)?;
    let mut cd_size = le(eocd + 12, 4)?;
    let mut cd_end = eocd;
    if count == 0xFFFF || cd_size == 0xFFFF_FFFF || le(eocd + 16, 4)? == 0xFFFF_FFFF {
        // ZIP64: a locator just before the record points at the ZIP64 record.
        let loc = eocd.checked_sub(20)?;
        if !b[loc..].starts_with(b"PK\x06\x07") {
            return None;
        }
        let z = usize::try_from(le(loc + 8, 8)?).ok()?;
        if !b.get(z..)?.starts_with(b"PK\x06\x06") || z >= loc {
            return None;
        }
        count = le(z + 32, 8)?;
        cd_size = le(z + 40, 8)?;
        cd_end = z;
    }
    // The directory ends where the end record starts (this also copes with data before the
    // archive, which shifts every recorded offset).
    let mut p = cd_end.checked_sub(usize::try_from(cd_size).ok()?)?;
    let mut out = vec![];
    for _ in 0..count {
        if !b.get(p..)?.starts_with(b"PK\x01\x02") {
            return None;
        }
        let (mut compressed, mut uncompressed) = (le(p + 20, 4)?, le(p + 24, 4)?);
        let (n, x, c) = (
            le(p + 28, 2)? as usize,
            le(p + 30, 2)? as usize,
            le(p + 32, 2)? as usize,
        );
        let name = String::from_utf8_lossy(b.get(p + 46..p + 46 + n)?).into_owned();
        let mut e = p + 46 + n;
        while e + 4 <= p + 46 + n + x {
            let (id, len) = (le(e, 2)?, le(e + 2, 2)? as usize);
            if id == 1 {
                // ZIP64 sizes, present only for the fields that overflowed, in this order.
                let mut q = e + 4;
                if uncompressed == 0xFFFF_FFFF {
                    uncompressed = le(q, 8)?;
                    q += 8;
                }
                if compressed == 0xFFFF_FFFF {
                    compressed = le(q, 8)?;
                }
            }
            e += 4 + len;
        }
        out.push(ZipEntry {
            name,
            compressed,
            uncompressed,
        });
        p += 46 + n + x + c;
    }
    Some(out)
}

/// Refuses a workbook whose parts would unpack to more than the limits allow, or whose
/// compression ratio only a ZIP bomb has — before anything is unpacked.
fn check_zip(bytes: &[u8], limits: &Limits) -> ApiResult<()> {
    let entries = zip_entries(bytes).ok_or_else(|| bad_xlsx("its ZIP directory cannot be read"))?;
    let mib = |n: u64| n.div_ceil(1 << 20);
    let mut total = 0u64;
    for e in &entries {
        let name: String = e
            .name
            .chars()
            .filter(|c| !c.is_control())
            .take(80)
            .collect();
        let max = if e.name.starts_with("xl/worksheets/") {
            limits.max_sheet_bytes
        } else {
            limits.max_part_bytes
        };
        if e.uncompressed > max {
            return Err(xlsx_too_large(format!(
                "{name} would be {} MiB, at most {} MiB",
                mib(e.uncompressed),
                mib(max)
            )));
        }
        if e.uncompressed > limits.ratio_from
            && e.uncompressed / e.compressed.max(1) > limits.max_ratio
        {
            return Err(xlsx_too_large(format!(
                "{name} is compressed {}:1, at most {}:1",
                e.uncompressed / e.compressed.max(1),
                limits.max_ratio
            )));
        }
        total = total.saturating_add(e.uncompressed);
    }
    if total > limits.max_total_bytes {
        return Err(xlsx_too_large(format!(
            "its parts would be {} MiB together, at most {} MiB",
            mib(total),
            mib(limits.max_total_bytes)
        )));
    }
    Ok(())
}

fn xlsx_cell(d: calamine::DataRef<'_>) -> Cell {
    use calamine::DataRef as D;
    match d {
        D::Empty => Cell::Empty,
        D::Int(i) => Cell::Number(i as f64),
        D::Float(f) => Cell::Number(f),
        D::String(s) | D::DateTimeIso(s) | D::DurationIso(s) => Cell::Text(s),
        D::SharedString(s) => Cell::Text(s.to_string()),
        D::Bool(b) => Cell::Bool(b),
        D::DateTime(d) => match d.as_datetime() {
            Some(dt) if d.is_datetime() => Cell::Date(dt),
            _ => Cell::Number(d.as_f64()),
        },
        D::Error(e) => Cell::Error(e.to_string()),
    }
}

/// The first sheet, read cell by cell: its first non-empty row is the header (its first
/// non-empty cell the first column); wholly empty rows are skipped; cells outside the
/// header's columns are ignored. Before anything is unpacked the ZIP directory is checked
/// ([`check_zip`]); a sheet whose declared used range (`<dimension ref="A1:F1200001">`) has
/// more rows than the limit is first counted without keeping anything, so a 1.2-million-row
/// sheet is refused after reading one row more than the limit, in little memory.
fn read_xlsx(bytes: &[u8], limits: &Limits, keep: usize) -> ApiResult<(Table, usize)> {
    use calamine::{Reader, Xlsx};
    check_zip(bytes, limits)?;
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(bad_xlsx)?;
    let sheet = book
        .sheet_names()
        .into_iter()
        .next()
        .ok_or_else(|| bad_xlsx("it has no worksheet"))?;
    let mut cells = book.worksheet_cells_reader(&sheet).map_err(bad_xlsx)?;
    let dim = cells.dimensions();
    if dim.end.0.saturating_sub(dim.start.0) as usize > limits.max_rows {
        // The range may include empty (formatted) rows, which do not count: count the rows
        // that hold a value, stopping at one too many.
        let (mut rows, mut last) = (0usize, None);
        while let Some(c) = cells.next_cell().map_err(bad_xlsx)? {
            let r = c.get_position().0;
            if !matches!(c.get_value(), calamine::DataRef::Empty) && last != Some(r) {
                last = Some(r);
                rows += 1;
                // The header and one row over the limit.
                if rows > limits.max_rows + 1 {
                    return Err(too_many_rows(limits.max_rows));
                }
            }
        }
        drop(cells);
        cells = book.worksheet_cells_reader(&sheet).map_err(bad_xlsx)?;
    }
    // The row being gathered: its index and its non-empty cells (column, cell).
    let mut current: Option<(u32, Vec<(u32, Cell)>)> = None;
    // Set by the header: the first column and the sink.
    let mut body: Option<(u32, Sink)> = None;
    let flush = |row: (u32, Vec<(u32, Cell)>), body: &mut Option<(u32, Sink)>| -> ApiResult<()> {
        let (r, cells) = row;
        match body {
            None => {
                let first = cells.iter().map(|(c, _)| *c).min().unwrap_or(0);
                let mut columns = vec![];
                for (c, cell) in cells {
                    let i = (c - first) as usize;
                    if i >= 16_384 {
                        continue;
                    }
                    if columns.len() <= i {
                        columns.resize(i + 1, String::new());
                    }
                    columns[i] = cell.text();
                }
                while columns.last().is_some_and(String::is_empty) {
                    columns.pop();
                }
                if columns.is_empty() {
                    return Err(empty_file());
                }
                *body = Some((first, Sink::new(limits, columns, keep)?));
                Ok(())
            }
            Some((first, sink)) => {
                let width = sink.columns.len();
                let mut row = vec![Cell::Empty; width];
                for (c, cell) in cells {
                    if let Some(slot) = c.checked_sub(*first).and_then(|i| row.get_mut(i as usize))
                    {
                        *slot = cell;
                    }
                }
                sink.push(Row {
                    line: r as usize + 1,
                    cells: Ok(row),
                })
            }
        }
    };
    while let Some(c) = cells.next_cell().map_err(bad_xlsx)? {
        let ((r, col), value) = (c.get_position(), c.get_value().clone());
        if matches!(value, calamine::DataRef::Empty) {
            continue;
        }
        match &mut current {
            Some((cr, cs)) if *cr == r => cs.push((col, xlsx_cell(value))),
            _ => {
                if let Some(done) = current.take() {
                    flush(done, &mut body)?;
                }
                current = Some((r, vec![(col, xlsx_cell(value))]));
            }
        }
    }
    if let Some(done) = current.take() {
        flush(done, &mut body)?;
    }
    let (_, sink) = body.ok_or_else(empty_file)?;
    Ok(sink.finish(Format::Xlsx, None))
}

/// Hand-made workbooks for the tests and `hotline-bench import-guard`: a ZIP writer and a
/// tiny deflate encoder for periodic data, so a sheet past Excel's own row limit (which
/// spreadsheet writers refuse to make) can be built the way an attacker would.
#[doc(hidden)]
pub mod sample {
    fn crc32(crc: u32, data: &[u8]) -> u32 {
        let mut crc = !crc;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
            }
        }
        !crc
    }

    /// One ZIP entry: name, method (0 stored, 8 deflated), CRC-32, uncompressed size, data.
    pub struct Entry {
        pub name: String,
        pub method: u16,
        pub crc: u32,
        pub size: u32,
        pub data: Vec<u8>,
    }

    impl Entry {
        pub fn stored(name: &str, data: Vec<u8>) -> Entry {
            Entry {
                name: name.into(),
                method: 0,
                crc: crc32(0, &data),
                size: data.len() as u32,
                data,
            }
        }
    }

    pub fn zip(entries: &[Entry]) -> Vec<u8> {
        let (mut out, mut dir) = (vec![], vec![]);
        for e in entries {
            let offset = out.len() as u32;
            let common = |v: &mut Vec<u8>| {
                v.extend_from_slice(&[20, 0, 0, 0]); // version needed, flags
                v.extend_from_slice(&e.method.to_le_bytes());
                v.extend_from_slice(&[0, 0, 0x21, 0]); // time, date (1980-01-01)
                v.extend_from_slice(&e.crc.to_le_bytes());
                v.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
                v.extend_from_slice(&e.size.to_le_bytes());
                v.extend_from_slice(&(e.name.len() as u16).to_le_bytes());
                v.extend_from_slice(&[0, 0]); // extra
            };
            out.extend_from_slice(b"PK\x03\x04");
            common(&mut out);
            out.extend_from_slice(e.name.as_bytes());
            out.extend_from_slice(&e.data);
            dir.extend_from_slice(b"PK\x01\x02\x14\x00");
            common(&mut dir);
            dir.extend_from_slice(&[0; 10]); // comment, disk, internal and external attributes
            dir.extend_from_slice(&offset.to_le_bytes());
            dir.extend_from_slice(e.name.as_bytes());
        }
        let (cd_offset, cd_size, n) = (out.len() as u32, dir.len() as u32, entries.len() as u16);
        out.extend_from_slice(&dir);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&cd_size.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    struct Bits {
        out: Vec<u8>,
        acc: u64,
        n: u32,
    }

    impl Bits {
        /// `count` bits of `v`, least significant first (extra bits, headers).
        fn put(&mut self, v: u32, count: u32) {
            self.acc |= u64::from(v) << self.n;
            self.n += count;
            while self.n >= 8 {
                self.out.push(self.acc as u8);
                self.acc >>= 8;
                self.n -= 8;
            }
        }
        /// A Huffman code: most significant bit first.
        fn code(&mut self, code: u32, len: u32) {
            let rev = code.reverse_bits() >> (32 - len);
            self.put(rev, len);
        }
        fn literal(&mut self, b: u16) {
            match b {
                0..=143 => self.code(0x30 + u32::from(b), 8),
                144..=255 => self.code(0x190 + u32::from(b) - 144, 9),
                256..=279 => self.code(u32::from(b) - 256, 7),
                _ => self.code(0xC0 + u32::from(b) - 280, 8),
            }
        }
    }

    /// `head`, then `unit` `n` times, then `tail`, deflated in one fixed-Huffman block in
    /// which every repetition after the first is a back-reference: returns an entry.
    pub fn repeated(name: &str, head: &[u8], unit: &[u8], n: usize, tail: &[u8]) -> Entry {
        const BASE: [u32; 30] = [
            1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025,
            1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
        ];
        assert!(!unit.is_empty() && unit.len() <= 32768 && n > 0);
        let mut b = Bits {
            out: vec![],
            acc: 0,
            n: 0,
        };
        b.put(1, 1); // final block
        b.put(1, 2); // fixed Huffman
        for &x in head.iter().chain(unit) {
            b.literal(u16::from(x));
        }
        let d = unit.len() as u32;
        let dcode = BASE.iter().rposition(|&base| base <= d).unwrap_or(0);
        let extra = if dcode < 4 { 0 } else { (dcode as u32 - 2) / 2 };
        let mut left = (n - 1) * unit.len();
        let mut pos = 0usize;
        while left >= 258 {
            b.literal(285); // length 258, no extra bits
            b.code(dcode as u32, 5);
            b.put(d - BASE[dcode], extra);
            left -= 258;
            pos += 258;
        }
        for i in 0..left {
            b.literal(u16::from(unit[(pos + i) % unit.len()]));
        }
        for &x in tail {
            b.literal(u16::from(x));
        }
        b.literal(256);
        b.put(0, 7); // flush
        let mut crc = crc32(0, head);
        for _ in 0..n {
            crc = crc32(crc, unit);
        }
        crc = crc32(crc, tail);
        Entry {
            name: name.into(),
            method: 8,
            crc,
            size: (head.len() + unit.len() * n + tail.len()) as u32,
            data: b.out,
        }
    }

    /// A workbook whose one sheet is `Name` over `rows` rows holding the number 1 (rows and
    /// cells without positions, as the format allows), with `<dimension>` if given.
    pub fn tall_xlsx(rows: usize, dimension: Option<&str>) -> Vec<u8> {
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let head = format!(
            r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}<sheetData><row><c t="inlineStr"><is><t>Name</t></is></c></row>"#,
            dimension
                .map(|d| format!(r#"<dimension ref="{d}"/>"#))
                .unwrap_or_default()
        );
        zip(&[
            Entry::stored("_rels/.rels", format!(r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).into_bytes()),
            Entry::stored("xl/workbook.xml", format!(r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes()),
            Entry::stored("xl/_rels/workbook.xml.rels", format!(r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#).into_bytes()),
            repeated(
                "xl/worksheets/sheet1.xml",
                head.as_bytes(),
                b"<row><c><v>1</v></c></row>",
                rows,
                b"</sheetData></worksheet>",
            ),
        ])
    }
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

/// A text cell a spreadsheet would run as a formula (`=`, `@`, a tab or carriage return
/// first, or `+`/`-` followed by more than a number or phone numbers) gets a leading `'`, so
/// opening the export never runs what a caller typed (CSV injection).
pub fn csv_safe(s: String) -> String {
    let phone_or_number = |s: &str| {
        s.chars()
            .all(|c| c.is_ascii_digit() || " +-.()/".contains(c))
    };
    match s.chars().next() {
        Some('=' | '@' | '\t' | '\r') => format!("'{s}"),
        Some('+' | '-') if !phone_or_number(&s) => format!("'{s}"),
        _ => s,
    }
}

/// Renders the header and rows as CSV (quoted as needed, formulas defused by [`csv_safe`]).
pub fn write_csv(header: &[String], rows: &[Vec<Out>]) -> ApiResult<Vec<u8>> {
    let mut w = csv::Writer::from_writer(vec![]);
    w.write_record(header.iter().map(|h| csv_safe(h.clone())))
        .map_err(ApiError::internal)?;
    for r in rows {
        w.write_record(r.iter().map(|c| csv_safe(c.text())))
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
    fn csv_cells_that_would_run_as_formulas_are_defused() {
        for (cell, out) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"),
            ("-2+3*cmd", "'-2+3*cmd"),
            ("\tx", "'\tx"),
            ("+994125550100", "+994125550100"),
            ("+994125550100 +15550001111", "+994125550100 +15550001111"),
            ("-12.5", "-12.5"),
            ("Aysel = boss", "Aysel = boss"),
        ] {
            assert_eq!(csv_safe(cell.to_string()), out, "{cell}");
        }
        let csv = write_csv(
            &["name".into()],
            &[vec![Out::Text("=1+1, \"quoted\"".into())]],
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(csv).unwrap(),
            "name\n\"'=1+1, \"\"quoted\"\"\"\n"
        );
    }

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

    /// A ZIP with stored (uncompressed) entries, written by hand.
    fn stored_zip(entries: &[(&str, Vec<u8>)]) -> Vec<u8> {
        fn crc32(data: &[u8]) -> u32 {
            let mut crc = !0u32;
            for &b in data {
                crc ^= u32::from(b);
                for _ in 0..8 {
                    crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
                }
            }
            !crc
        }
        let (mut out, mut dir) = (vec![], vec![]);
        for (name, data) in entries {
            let (crc, len, offset) = (crc32(data), data.len() as u32, out.len() as u32);
            let common = |v: &mut Vec<u8>| {
                v.extend_from_slice(&[20, 0, 0, 0, 0, 0, 0, 0, 0, 0]); // version, flags, stored, time, date
                v.extend_from_slice(&crc.to_le_bytes());
                v.extend_from_slice(&len.to_le_bytes());
                v.extend_from_slice(&len.to_le_bytes());
                v.extend_from_slice(&(name.len() as u16).to_le_bytes());
                v.extend_from_slice(&[0, 0]); // extra
            };
            out.extend_from_slice(b"PK\x03\x04");
            common(&mut out);
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(data);
            dir.extend_from_slice(b"PK\x01\x02\x14\x00");
            common(&mut dir);
            dir.extend_from_slice(&[0; 6]); // comment, disk, internal attributes
            dir.extend_from_slice(&[0; 4]); // external attributes
            dir.extend_from_slice(&offset.to_le_bytes());
            dir.extend_from_slice(name.as_bytes());
        }
        let (cd_offset, cd_size, n) = (out.len() as u32, dir.len() as u32, entries.len() as u16);
        out.extend_from_slice(&dir);
        out.extend_from_slice(b"PK\x05\x06\0\0\0\0");
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&cd_size.to_le_bytes());
        out.extend_from_slice(&cd_offset.to_le_bytes());
        out.extend_from_slice(&[0, 0]);
        out
    }

    /// The smallest XLSX calamine reads: one sheet with this `<sheetData>` and, if given, a
    /// `<dimension>` (which may lie).
    fn minimal_xlsx(dimension: Option<&str>, rows: &str) -> Vec<u8> {
        let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
        let sheet = format!(
            r#"<?xml version="1.0"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}<sheetData>{rows}</sheetData></worksheet>"#,
            dimension
                .map(|d| format!(r#"<dimension ref="{d}"/>"#))
                .unwrap_or_default()
        );
        stored_zip(&[
            ("_rels/.rels", format!(r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).into_bytes()),
            ("xl/workbook.xml", format!(r#"<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="{rel}"><sheets><sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes()),
            ("xl/_rels/workbook.xml.rels", format!(r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#).into_bytes()),
            ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
        ])
    }

    /// Inline-string rows: a header `Name` in `col`, then `n` names; row numbers from 1.
    fn name_rows(col: &str, n: usize) -> String {
        (0..=n)
            .map(|i| {
                let v = if i == 0 {
                    "Name".to_string()
                } else {
                    format!("C{i}")
                };
                format!(
                    r#"<row r="{r}"><c r="{col}{r}" t="inlineStr"><is><t>{v}</t></is></c></row>"#,
                    r = i + 1
                )
            })
            .collect()
    }

    fn small(max_rows: usize) -> Limits {
        Limits { max_rows, ..LIMITS }
    }

    fn code(r: ApiResult<(Table, usize)>) -> &'static str {
        match r {
            Err(ApiError::BadRequest { code, .. }) => code,
            Err(ApiError::Validation(_)) => "validation_failed",
            Err(e) => panic!("unexpected {e:?}"),
            Ok((_, n)) => panic!("accepted {n} rows"),
        }
    }

    #[test]
    fn the_row_limit_stops_a_sheet_whatever_its_dimension_says() {
        // Honest, missing and lying dimensions: each is refused at one row over the limit.
        for dim in [Some("A1:A31"), None, Some("A1:A2")] {
            let x = minimal_xlsx(dim, &name_rows("A", 30));
            assert_eq!(
                code(scan(Format::Xlsx, &x, &small(10), usize::MAX)),
                "too_many_rows",
                "{dim:?}"
            );
            let (t, n) = scan(Format::Xlsx, &x, &small(30), usize::MAX).unwrap();
            assert_eq!((n, t.rows.len(), t.rows[29].line), (30, 30, 31), "{dim:?}");
        }
        // A used range larger than the limit whose rows are mostly empty is counted, not
        // refused: 8 names and a formatted empty cell at row 1000.
        let rows = name_rows("A", 8) + r#"<row r="1000"><c r="A1000" s="1"/></row>"#;
        let x = minimal_xlsx(Some("A1:A1000"), &rows);
        let (t, n) = scan(Format::Xlsx, &x, &small(10), usize::MAX).unwrap();
        assert_eq!((n, t.rows.len()), (8, 8));
        // A preview keeps the first rows only but counts them all.
        let x = minimal_xlsx(None, &name_rows("A", 30));
        let (t, n) = scan(Format::Xlsx, &x, &small(30), PREVIEW_ROWS).unwrap();
        assert_eq!((n, t.rows.len()), (30, PREVIEW_ROWS));
    }

    #[test]
    fn the_header_sets_the_first_column_and_cells_outside_are_ignored() {
        let rows = r#"<row r="2"><c r="B2" t="inlineStr"><is><t>Name</t></is></c><c r="D2" t="inlineStr"><is><t>Tel</t></is></c></row><row r="4"><c r="A4" t="inlineStr"><is><t>left</t></is></c><c r="B4" t="inlineStr"><is><t>Aysel</t></is></c><c r="D4"><v>5</v></c><c r="E4"><v>6</v></c></row>"#;
        let (t, n) = scan(Format::Xlsx, &minimal_xlsx(None, rows), &LIMITS, usize::MAX).unwrap();
        assert_eq!(t.columns, ["Name", "", "Tel"]);
        assert_eq!(n, 1);
        assert_eq!(t.rows[0].line, 4);
        assert_eq!(
            t.rows[0].cells.as_ref().unwrap(),
            &[Cell::Text("Aysel".into()), Cell::Empty, Cell::Number(5.0)]
        );
    }

    #[test]
    fn the_zip_directory_bounds_what_a_workbook_may_unpack_to() {
        let x = minimal_xlsx(None, &name_rows("A", 1000));
        let entries = zip_entries(&x).unwrap();
        let sheet = entries
            .iter()
            .find(|e| e.name == "xl/worksheets/sheet1.xml")
            .unwrap();
        assert_eq!(sheet.compressed, sheet.uncompressed);
        assert!(sheet.uncompressed > 50_000, "{sheet:?}");
        let sheet_limit = Limits {
            max_sheet_bytes: 50_000,
            ..LIMITS
        };
        assert_eq!(
            code(scan(Format::Xlsx, &x, &sheet_limit, 1)),
            "xlsx_too_large"
        );
        let part_limit = Limits {
            max_part_bytes: 100,
            ..LIMITS
        };
        assert_eq!(
            code(scan(Format::Xlsx, &x, &part_limit, 1)),
            "xlsx_too_large"
        );
        let total_limit = Limits {
            max_total_bytes: 50_000,
            ..LIMITS
        };
        assert_eq!(
            code(scan(Format::Xlsx, &x, &total_limit, 1)),
            "xlsx_too_large"
        );
        // A real (deflated) workbook of the same rows compresses well: a low ratio limit
        // refuses it, the production one does not.
        let mut book = rust_xlsxwriter::Workbook::new();
        let ws = book.add_worksheet();
        for r in 0..20_000u32 {
            ws.write_string(r, 0, "same").unwrap();
        }
        let x = book.save_to_buffer().unwrap();
        let sheet = zip_entries(&x)
            .unwrap()
            .into_iter()
            .find(|e| e.name == "xl/worksheets/sheet1.xml")
            .unwrap();
        assert!(sheet.uncompressed > 10 * sheet.compressed, "{sheet:?}");
        let ratio = Limits {
            max_ratio: 5,
            ratio_from: 1000,
            ..LIMITS
        };
        assert_eq!(code(scan(Format::Xlsx, &x, &ratio, 1)), "xlsx_too_large");
        assert!(scan(Format::Xlsx, &x, &LIMITS, 1).is_ok());
        // No directory at all.
        assert_eq!(
            code(scan(Format::Xlsx, b"PK\x03\x04 nothing", &LIMITS, 1)),
            "bad_xlsx"
        );
    }

    #[test]
    fn csv_reads_stop_at_the_limit_and_previews_keep_the_first_rows() {
        let csv: String = std::iter::once("Name,Tel\n".to_string())
            .chain((0..50).map(|i| format!("N{i},{i}\n")))
            .collect();
        assert_eq!(
            code(scan(Format::Csv, csv.as_bytes(), &small(49), usize::MAX)),
            "too_many_rows"
        );
        let (t, n) = scan(Format::Csv, csv.as_bytes(), &small(50), PREVIEW_ROWS).unwrap();
        assert_eq!((n, t.rows.len(), t.rows[4].line), (50, 5, 6));
        // NUL after the kept rows is still found.
        let nul = format!("{csv}X\0,1\n");
        assert_eq!(
            code(scan(Format::Csv, nul.as_bytes(), &LIMITS, PREVIEW_ROWS)),
            "validation_failed"
        );
        let wide = format!("{}\nx\n", vec!["c"; 501].join(","));
        assert_eq!(
            code(scan(Format::Csv, wide.as_bytes(), &LIMITS, 1)),
            "too_many_columns"
        );
        let long = format!("{}\nx\n", "h".repeat(201));
        assert_eq!(
            code(scan(Format::Csv, long.as_bytes(), &LIMITS, 1)),
            "validation_failed"
        );
    }

    #[test]
    fn a_hand_deflated_tall_sheet_reads_back() {
        let x = sample::tall_xlsx(1000, None);
        let (t, n) = scan(Format::Xlsx, &x, &LIMITS, 2).unwrap();
        assert_eq!(
            (t.columns.as_slice(), n),
            (["Name".to_string()].as_slice(), 1000)
        );
        assert_eq!(t.rows[1].cells.as_ref().unwrap(), &[Cell::Number(1.0)]);
        assert_eq!(t.rows[1].line, 3);
        let x = sample::tall_xlsx(1000, Some("A1:A1001"));
        assert_eq!(
            code(scan(Format::Xlsx, &x, &small(999), 2)),
            "too_many_rows"
        );
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
