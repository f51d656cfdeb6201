//! A CSV file of transactions, as `POST /v1/imports/transactions` takes it: UTF-8 (a BOM is
//! dropped), comma or semicolon separated (told by the header line), a header row whose names
//! are matched case-insensitively. Each row becomes the body the Transactions API takes, so
//! both are checked by the same rules (`api_transaction`).

use crate::domain::api_transaction::TransactionInput;
use crate::domain::error::FieldError;
use crate::domain::money::Currency;
use sha2::{Digest, Sha256};

/// The columns read; any other is ignored and named in the answer's warnings.
const COLUMNS: [&str; 8] = [
    "customer_key",
    "amount",
    "amount_decimal",
    "currency",
    "key",
    "category_key",
    "product_key",
    "created_at",
];
const CUSTOMER_KEY: usize = 0;
const AMOUNT: usize = 1;
const AMOUNT_DECIMAL: usize = 2;
const CURRENCY: usize = 3;
const KEY: usize = 4;
const CATEGORY_KEY: usize = 5;
const PRODUCT_KEY: usize = 6;
const CREATED_AT: usize = 7;

/// One data row: its number in the file (the header is row 1) and its cells by column, empty
/// cells as `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub row: usize,
    cells: [Option<String>; 8],
}

/// A file read: its rows (each, or why it cannot be read) and the warnings about its header.
#[derive(Debug)]
pub struct CsvFile {
    pub rows: Vec<Result<CsvRow, (usize, FieldError)>>,
    pub warnings: Vec<String>,
}

fn refused(message: impl Into<String>) -> FieldError {
    FieldError::new("file", message)
}

/// `;` when the header line has more of them than commas, else `,`. The CLI splits files by
/// the same rule.
pub fn delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or("");
    let count = |c: char| header.chars().filter(|h| *h == c).count();
    if count(';') > count(',') {
        b';'
    } else {
        b','
    }
}

/// Reads `bytes` as a CSV file whose first data row is row `first_row` (2 for a whole file; a
/// chunk of a larger one says where it starts). A file that is not UTF-8 text, has no header,
/// or lacks `customer_key` or an amount column is refused whole; a bad row fails alone.
pub fn read_csv(bytes: &[u8], first_row: usize) -> Result<CsvFile, FieldError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|_| refused("is not UTF-8 text"))?;
    if text.trim().is_empty() {
        return Err(refused("is empty: a header row is required"));
    }
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter(text))
        .flexible(true)
        .from_reader(text.as_bytes());
    let header = reader
        .headers()
        .map_err(|e| refused(format!("is not CSV: {e}")))?
        .clone();
    let mut positions: [Option<usize>; 8] = Default::default();
    let mut warnings = Vec::new();
    for (at, name) in header.iter().enumerate() {
        let name = name.trim().to_ascii_lowercase();
        match COLUMNS.iter().position(|c| *c == name) {
            Some(column) if positions[column].is_some() => {
                return Err(refused(format!("has the column {name:?} twice")));
            }
            Some(column) => positions[column] = Some(at),
            None => warnings.push(format!("unknown column {name:?} is ignored")),
        }
    }
    if positions[CUSTOMER_KEY].is_none() {
        return Err(refused("has no customer_key column"));
    }
    if positions[AMOUNT].is_none() && positions[AMOUNT_DECIMAL].is_none() {
        return Err(refused("has no amount (or amount_decimal) column"));
    }
    let rows = reader
        .records()
        .enumerate()
        .map(|(index, record)| {
            let row = first_row + index;
            let record = record.map_err(|e| (row, refused(format!("row {row}: {e}"))))?;
            let cells = positions.map(|at| {
                at.and_then(|at| record.get(at))
                    .map(str::trim)
                    .filter(|cell| !cell.is_empty())
                    .map(str::to_string)
            });
            Ok(CsvRow { row, cells })
        })
        .collect();
    Ok(CsvFile { rows, warnings })
}

impl CsvRow {
    /// The customer's key this row names, when it names one.
    pub fn customer_key(&self) -> Option<&str> {
        self.cells[CUSTOMER_KEY].as_deref()
    }

    /// The row's key: its `key` cell, else a digest of its cells and its row number. The row
    /// number keeps two identical rows apart (two equal sales of one day); the cells keep a
    /// row apart from the same row of another file. A chunk sent with its first row number
    /// (the CLI's) gets the keys the whole file gets, so importing again creates nothing.
    pub fn key(&self) -> String {
        if let Some(key) = &self.cells[KEY] {
            return key.clone();
        }
        let mut hasher = Sha256::new();
        for cell in &self.cells {
            let cell = cell.as_deref().unwrap_or("");
            hasher.update((cell.len() as u64).to_be_bytes());
            hasher.update(cell.as_bytes());
        }
        hasher.update((self.row as u64).to_be_bytes());
        format!("imp_{}", hex::encode(&hasher.finalize()[..16]))
    }

    /// The customer's key and the body the Transactions API would take for this row.
    pub fn input(&self) -> Result<(String, TransactionInput), FieldError> {
        let customer_key = self.cells[CUSTOMER_KEY]
            .clone()
            .ok_or_else(|| FieldError::new("customer_key", "is required"))?;
        let currency = self.cells[CURRENCY]
            .as_deref()
            .map(|code| {
                Currency::parse(code)
                    .map_err(|_| FieldError::new("currency", format!("unknown currency {code:?}")))
            })
            .transpose()?;
        let amount = match (&self.cells[AMOUNT], &self.cells[AMOUNT_DECIMAL]) {
            (Some(minor), None) => minor.parse::<i64>().map_err(|_| {
                FieldError::new("amount", "must be an integer of minor units (cents)")
            })?,
            (None, Some(decimal)) => decimal_minor(decimal, currency)?,
            (Some(_), Some(_)) => {
                return Err(FieldError::new(
                    "amount",
                    "give amount or amount_decimal, not both",
                ))
            }
            (None, None) => return Err(FieldError::new("amount", "is required")),
        };
        let input = TransactionInput {
            amount,
            currency,
            key: Some(self.key()),
            category_key: self.cells[CATEGORY_KEY].clone(),
            product_key: self.cells[PRODUCT_KEY].clone(),
            created_at: self.cells[CREATED_AT].clone(),
        };
        Ok((customer_key, input))
    }
}

/// `49.00` in the row's currency as minor units; a row without a currency needs it said,
/// since the digits allowed depend on it.
fn decimal_minor(text: &str, currency: Option<Currency>) -> Result<i64, FieldError> {
    let field = "amount_decimal";
    let currency =
        currency.ok_or_else(|| FieldError::new("currency", "is required with amount_decimal"))?;
    let amount = currency
        .parse_amount(text)
        .map_err(|e| FieldError::new(field, e.to_string()))?;
    let minor = currency
        .to_minor(amount)
        .map_err(|e| FieldError::new(field, e.to_string()))?;
    // Named here, since the check of the minor units would name `amount`.
    if minor <= 0 {
        return Err(FieldError::new(field, "must be more than zero"));
    }
    Ok(minor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(text: &str) -> Vec<CsvRow> {
        let file = read_csv(text.as_bytes(), 2).unwrap();
        file.rows.into_iter().map(Result::unwrap).collect()
    }

    #[test]
    fn semicolons_bom_quotes_and_case_are_read() {
        let text = "\u{feff}Customer_Key;AMOUNT_decimal;currency;note\n\
                    c1;\"49,00\";EUR;x\nc2;12.5;USD;\"two\nlines; here\"\n";
        let file = read_csv(text.as_bytes(), 2).unwrap();
        assert_eq!(file.warnings, vec!["unknown column \"note\" is ignored"]);
        let rows: Vec<CsvRow> = file.rows.into_iter().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].row, 3);
        assert_eq!(rows[0].input().unwrap_err().field, "amount_decimal");
        let (customer, input) = rows[1].input().unwrap();
        assert_eq!((customer.as_str(), input.amount), ("c2", 1250));
    }

    #[test]
    fn keys_are_the_cell_or_a_digest_of_content_and_row() {
        let text = "customer_key,amount,key\nc1,100,\nc1,100,\nc1,100,own\n";
        let rows = rows(text);
        assert_ne!(rows[0].key(), rows[1].key(), "equal rows stay apart");
        assert_eq!(rows[2].key(), "own");
        let again = read_csv(b"customer_key,amount\nc1,100\n", 2).unwrap();
        let again = again.rows[0].as_ref().unwrap().clone();
        assert_eq!(again.key(), rows[0].key(), "the same content and row");
    }

    #[test]
    fn files_without_the_columns_are_refused_whole() {
        for bad in [
            &b""[..],
            b"amount\n1\n",
            b"customer_key,key\nc,k\n",
            b"\xff\xfe",
        ] {
            assert_eq!(read_csv(bad, 2).unwrap_err().field, "file");
        }
    }

    #[test]
    fn bad_cells_name_their_field() {
        let text = "customer_key,amount,currency\nc,1.5,\nc,10,XYZ\n,10,\nc,,\n";
        let zero = "customer_key,amount_decimal,currency\nc,0.00,USD\n";
        assert_eq!(rows(zero)[0].input().unwrap_err().field, "amount_decimal");
        let fields: Vec<String> = rows(text)
            .iter()
            .map(|r| r.input().unwrap_err().field)
            .collect();
        assert_eq!(fields, ["amount", "currency", "customer_key", "amount"]);
    }
}
