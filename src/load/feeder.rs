//! Feeders: rows of test data (`data users from "users.csv"`) that fill `{users.id}`
//! placeholders in paths, headers and bodies.
//!
//! CSV files have a header row naming the columns; JSON-lines files hold one object per line
//! whose keys are the columns. Errors name the line, because these files are written by hand
//! or exported by scripts and the line is what the user needs to fix. A feeder hands out rows
//! in order (wrapping around) or at random from the run's seeded RNG; one request uses one row
//! of each feeder it mentions, so `{users.id}` and `{users.token}` agree.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use rand::rngs::StdRng;
use rand::RngExt;

/// How a data file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    Csv,
    Jsonl,
}

/// Which row each request takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataOrder {
    /// In file order, starting over at the end.
    Cycle,
    /// A row drawn at random each time.
    Random,
}

/// Why a feeder could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum FeederError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    /// A CSV line is malformed (wrong number of fields, an unterminated quote).
    #[error("line {line}: {message}")]
    Csv { line: usize, message: String },
    /// A JSON-lines line is not a JSON object or lacks a column.
    #[error("line {line}: {message}")]
    Json { line: usize, message: String },
    /// The file has columns but no rows.
    #[error("no rows of data")]
    Empty,
}

/// Rows of named columns. Clones share the rows and the cycling cursor.
#[derive(Debug, Clone)]
pub struct Feeder {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    columns: Vec<String>,
    /// Row-major: row `r`, column `c` is at `r * columns.len() + c`.
    cells: Vec<String>,
    order: DataOrder,
    cursor: AtomicU64,
}

impl Feeder {
    /// Reads a CSV or JSON-lines file.
    pub fn load(path: &Path, format: DataFormat, order: DataOrder) -> Result<Feeder, FeederError> {
        let text = std::fs::read_to_string(path).map_err(|source| FeederError::Io {
            path: path.display().to_string(),
            source,
        })?;
        match format {
            DataFormat::Csv => Feeder::from_csv(&text, order),
            DataFormat::Jsonl => Feeder::from_jsonl(&text, order),
        }
    }

    /// Parses CSV with a header row: fields separated by commas, optionally in double quotes
    /// (a doubled quote inside stands for one; quoted fields may span lines).
    pub fn from_csv(text: &str, order: DataOrder) -> Result<Feeder, FeederError> {
        let mut records = csv_records(text)?.into_iter();
        let Some((_, columns)) = records.next() else {
            return Err(FeederError::Empty);
        };
        let mut cells = Vec::new();
        for (line, record) in records {
            if record.len() == 1 && record[0].is_empty() {
                continue;
            }
            if record.len() != columns.len() {
                return Err(FeederError::Csv {
                    line,
                    message: format!(
                        "expected {} field{} as in the header, found {}",
                        columns.len(),
                        if columns.len() == 1 { "" } else { "s" },
                        record.len()
                    ),
                });
            }
            cells.extend(record);
        }
        Feeder::build(columns, cells, order)
    }

    /// Parses JSON lines: one object per non-blank line; the first object's keys are the
    /// columns and every line must have them. Strings are used as they are, other values as
    /// JSON text.
    pub fn from_jsonl(text: &str, order: DataOrder) -> Result<Feeder, FeederError> {
        let mut columns: Option<Vec<String>> = None;
        let mut cells = Vec::new();
        for (i, raw) in text.lines().enumerate() {
            let line = i + 1;
            if raw.trim().is_empty() {
                continue;
            }
            let value: serde_json::Value =
                serde_json::from_str(raw).map_err(|e| FeederError::Json {
                    line,
                    message: format!("not valid JSON: {e}"),
                })?;
            let serde_json::Value::Object(map) = value else {
                return Err(FeederError::Json {
                    line,
                    message: "expected a JSON object".into(),
                });
            };
            let cols = columns.get_or_insert_with(|| map.keys().cloned().collect());
            for c in cols.iter() {
                let cell = match map.get(c) {
                    Some(serde_json::Value::String(s)) => s.clone(),
                    Some(v) => v.to_string(),
                    None => {
                        return Err(FeederError::Json {
                            line,
                            message: format!("missing key `{c}`"),
                        })
                    }
                };
                cells.push(cell);
            }
        }
        Feeder::build(columns.unwrap_or_default(), cells, order)
    }

    fn build(
        columns: Vec<String>,
        cells: Vec<String>,
        order: DataOrder,
    ) -> Result<Feeder, FeederError> {
        if columns.is_empty() || cells.is_empty() {
            return Err(FeederError::Empty);
        }
        Ok(Feeder {
            inner: Arc::new(Inner {
                columns,
                cells,
                order,
                cursor: AtomicU64::new(0),
            }),
        })
    }

    /// Shard `index` (0-based) of `count`: rows `index`, `index + count`, … — the rows a
    /// cycling one-process run hands to the arrivals this shard sends. With fewer rows than
    /// shards, the shard keeps row `index % len` so it still has one.
    pub fn partition(&self, index: u32, count: u32) -> Feeder {
        let width = self.inner.columns.len();
        let (index, count) = (index as usize, count.max(1) as usize);
        let mut rows: Vec<usize> = (index..self.len()).step_by(count).collect();
        if rows.is_empty() {
            rows.push(index % self.len().max(1));
        }
        let cells = rows
            .iter()
            .flat_map(|&r| self.inner.cells[r * width..(r + 1) * width].iter().cloned())
            .collect();
        Feeder {
            inner: Arc::new(Inner {
                columns: self.inner.columns.clone(),
                cells,
                order: self.inner.order,
                cursor: AtomicU64::new(0),
            }),
        }
    }

    pub fn columns(&self) -> &[String] {
        &self.inner.columns
    }

    pub fn column(&self, name: &str) -> Option<usize> {
        self.inner.columns.iter().position(|c| c == name)
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.inner.cells.len() / self.inner.columns.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn value(&self, row: usize, column: usize) -> &str {
        &self.inner.cells[row * self.inner.columns.len() + column]
    }

    /// The row for the next request: in order (wrapping) or at random.
    pub(crate) fn pick(&self, rng: &mut StdRng) -> usize {
        match self.inner.order {
            DataOrder::Cycle => {
                (self.inner.cursor.fetch_add(1, Ordering::Relaxed) % self.len() as u64) as usize
            }
            DataOrder::Random => rng.random_range(0..self.len()),
        }
    }
}

/// Splits CSV text into records of fields, each with the line number it starts on, with the
/// `csv` crate (RFC 4180 quoting, CRLF or LF, a leading UTF-8 BOM dropped, blank lines
/// skipped). The field count is left to the caller, which names the header's.
fn csv_records(text: &str) -> Result<Vec<(usize, Vec<String>)>, FeederError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = Vec::new();
    let mut last_start = 0usize;
    for record in reader.records() {
        let record = record.map_err(|e| FeederError::Csv {
            line: e.position().map_or(0, |p| p.line() as usize),
            message: e.to_string(),
        })?;
        let (line, byte) = record
            .position()
            .map_or((0, 0), |p| (p.line() as usize, p.byte() as usize));
        last_start = byte;
        records.push((line, record.iter().map(str::to_string).collect()));
    }
    // The crate reads an opening quote that is never closed to the end of the input; an odd
    // number of quotes in the last record is that mistake, not a field with a newline in it.
    let tail = text.get(last_start..).unwrap_or("");
    if tail.matches('"').count() % 2 == 1 {
        return Err(FeederError::Csv {
            line: records.last().map_or(1, |r| r.0),
            message: "unterminated quoted field".into(),
        });
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_and_crlf() {
        let f =
            Feeder::from_csv("id,name\r\n1,\"a, \"\"b\"\"\"\r\n2,c\r\n", DataOrder::Cycle).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!(f.value(0, 1), "a, \"b\"");
        assert_eq!(f.value(1, 0), "2");
    }

    #[test]
    fn csv_with_bom_and_a_field_across_lines() {
        let f = Feeder::from_csv(
            "\u{feff}id,note\n1,\"two\nlines\"\n\n2,x\n",
            DataOrder::Cycle,
        )
        .unwrap();
        assert_eq!(f.columns(), ["id", "note"]);
        assert_eq!(f.len(), 2);
        assert_eq!(f.value(0, 1), "two\nlines");
        let e = Feeder::from_csv("id,n\n1,\"a\nb\"\n2\n", DataOrder::Cycle).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 4: expected 2 fields as in the header, found 1"
        );
    }

    #[test]
    fn csv_errors_name_the_line() {
        let e = Feeder::from_csv("id,name\n1,a\n2\n", DataOrder::Cycle).unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3: expected 2 fields as in the header, found 1"
        );
        let e = Feeder::from_csv("id\n\"1\n", DataOrder::Cycle).unwrap_err();
        assert_eq!(e.to_string(), "line 2: unterminated quoted field");
        assert!(matches!(
            Feeder::from_csv("id\n", DataOrder::Cycle),
            Err(FeederError::Empty)
        ));
    }

    #[test]
    fn jsonl_columns_and_errors() {
        let f = Feeder::from_jsonl(
            "{\"id\": 7, \"n\": \"x\"}\n\n{\"id\": 8, \"n\": \"y\"}\n",
            DataOrder::Cycle,
        )
        .unwrap();
        assert_eq!(f.columns(), ["id", "n"]);
        assert_eq!(f.value(1, 0), "8");
        let e = Feeder::from_jsonl("{\"id\": 7}\n{\"x\": 1}\n", DataOrder::Cycle).unwrap_err();
        assert_eq!(e.to_string(), "line 2: missing key `id`");
        let e = Feeder::from_jsonl("{\"id\": 7}\n[1]\n", DataOrder::Cycle).unwrap_err();
        assert_eq!(e.to_string(), "line 2: expected a JSON object");
    }
}
