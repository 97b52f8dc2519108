//! The import file, read from the start once per pass (it is never held in memory). A file
//! that changes between passes stops the import: what was checked must be what is written.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use csv::StringRecord;

use super::row::{self, Problem, Row, Rules};
use crate::{input, Result};

pub struct Source {
    path: PathBuf,
    stamp: (u64, Option<SystemTime>),
}

/// One record of the file, by its ordinal among the records (the same in every pass).
// One line at a time is in memory: its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum Line {
    Row(Row),
    Bad(Vec<Problem>),
}

pub struct Lines {
    reader: csv::Reader<File>,
    header: StringRecord,
    record: StringRecord,
    ordinal: u32,
    /// Problems of the header itself (no line is read when there are any).
    pub header_problems: Vec<Problem>,
}

fn stamp(path: &Path) -> Result<(u64, Option<SystemTime>)> {
    let meta = std::fs::metadata(path).map_err(|e| input(format!("cannot read {}: {e}", path.display())))?;
    if !meta.is_file() {
        return Err(input(format!("{} is not a file", path.display())));
    }
    Ok((meta.len(), meta.modified().ok()))
}

impl Source {
    pub fn open(path: &Path) -> Result<Source> {
        Ok(Source { path: path.to_path_buf(), stamp: stamp(path)? })
    }

    /// Reads the file from its first line.
    pub fn lines(&self) -> Result<Lines> {
        if stamp(&self.path)? != self.stamp {
            return Err(input(format!("{} changed while it was imported: run the import again", self.path.display())));
        }
        let file = File::open(&self.path).map_err(|e| input(format!("cannot read {}: {e}", self.path.display())))?;
        let mut reader = csv::ReaderBuilder::new().trim(csv::Trim::All).from_reader(file);
        let header = match reader.headers() {
            Ok(h) => h.clone(),
            Err(e) => return Err(input(format!("{}: cannot read the header: {e}", self.path.display()))),
        };
        let header_problems = row::check_header(&header);
        Ok(Lines { reader, header, record: StringRecord::new(), ordinal: 0, header_problems })
    }
}

impl Lines {
    /// The next record, checked on its own; `None` at the end of the file.
    pub fn next(&mut self, rules: &Rules) -> Result<Option<(u32, Line)>> {
        if !self.header_problems.is_empty() {
            return Ok(None);
        }
        let line = match self.reader.read_record(&mut self.record) {
            Ok(false) => return Ok(None),
            Ok(true) => match row::read(&self.record, &self.header, rules) {
                Ok(row) => Line::Row(row),
                Err(problems) => Line::Bad(problems),
            },
            Err(e) => match row::unreadable(&e, &self.header) {
                Some(problem) => Line::Bad(vec![problem]),
                None => return Err(input(format!("cannot read the file: {e}"))),
            },
        };
        let ordinal = self.ordinal;
        self.ordinal += 1;
        Ok(Some((ordinal, line)))
    }
}
