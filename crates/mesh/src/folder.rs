//! The MESH client's folders: messages to send go into `OUT` as `<name>.dat` +
//! `<name>.ctl`; received messages appear in `IN` as `<DTSId>.dat` + `<DTSId>.ctl`,
//! and reports as a `.ctl` alone.
//!
//! The client picks up a pair once its `.ctl` exists, so [`OutFolder::put`] writes the
//! payload completely first, then the control file, each under a temporary name that
//! the client ignores (`.<name>.dat.partial`), synced to disk, then renamed into
//! place. A crash leaves at most a `.partial` file, never a half `.dat` or a `.ctl`
//! without its payload.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::control::{ControlError, ControlFile};
use crate::report::Report;

/// A folder fault: which file, and what went wrong.
#[derive(Debug, thiserror::Error)]
pub enum FolderError {
    /// A file could not be read, written or renamed.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or folder concerned.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// A control file is not valid.
    #[error("{}: {source}", path.display())]
    Control {
        /// The `.ctl` file.
        path: PathBuf,
        /// Where in it and why.
        source: ControlError,
    },
    /// The name cannot be used for a message file (empty, a path, or hidden).
    #[error("{name:?} is not a usable message name: {why}")]
    BadName {
        /// The name given.
        name: String,
        /// Why it is refused.
        why: &'static str,
    },
    /// A message of that name is already waiting in the folder.
    #[error("{}: a message of this name is already in the folder", path.display())]
    Exists {
        /// The existing file.
        path: PathBuf,
    },
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> FolderError + '_ {
    move |source| FolderError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A MESH client `OUT` folder.
#[derive(Clone, Debug)]
pub struct OutFolder {
    dir: PathBuf,
}

/// The two files of one message placed in `OUT`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Placed {
    /// The payload, `<name>.dat`.
    pub dat: PathBuf,
    /// The control file, `<name>.ctl`.
    pub ctl: PathBuf,
}

impl OutFolder {
    /// The `OUT` folder at `dir`, created if missing.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, FolderError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        Ok(OutFolder { dir })
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Places a message: `<name>.dat` (the payload), then `<name>.ctl`. Refuses a name
    /// already in use rather than overwrite a message the client may be sending.
    pub fn put(
        &self,
        name: &str,
        payload: &[u8],
        control: &ControlFile,
    ) -> Result<Placed, FolderError> {
        check_name(name)?;
        let dat = self.dir.join(format!("{name}.dat"));
        let ctl = self.dir.join(format!("{name}.ctl"));
        for existing in [&dat, &ctl] {
            if existing.exists() {
                return Err(FolderError::Exists {
                    path: existing.clone(),
                });
            }
        }
        write_atomically(&self.dir, &dat, payload)?;
        write_atomically(&self.dir, &ctl, control.to_xml().as_bytes())?;
        Ok(Placed { dat, ctl })
    }
}

fn check_name(name: &str) -> Result<(), FolderError> {
    let why = if name.is_empty() {
        Some("it is empty")
    } else if name.contains(['/', '\\']) || name == ".." {
        Some("it contains a path separator")
    } else if name.starts_with('.') {
        Some("it starts with a dot (hidden and temporary files are ignored)")
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character")
    } else {
        None
    };
    match why {
        Some(why) => Err(FolderError::BadName {
            name: name.to_owned(),
            why,
        }),
        None => Ok(()),
    }
}

/// Writes `bytes` to `.<file name>.partial` in `dir`, syncs it, renames it to
/// `target`, and syncs the folder so that the rename is durable.
fn write_atomically(dir: &Path, target: &Path, bytes: &[u8]) -> Result<(), FolderError> {
    let file_name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.partial"));
    let result = (|| {
        let mut f = File::create(&temp).map_err(io_err(&temp))?;
        f.write_all(bytes).map_err(io_err(&temp))?;
        f.sync_all().map_err(io_err(&temp))?;
        drop(f);
        fs::rename(&temp, target).map_err(io_err(target))?;
        sync_dir(dir)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), FolderError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), FolderError> {
    Ok(())
}

/// A MESH client `IN` folder.
#[derive(Clone, Debug)]
pub struct InFolder {
    dir: PathBuf,
}

/// One entry of an `IN` folder: a received message or a report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Arrived {
    /// The `.ctl` file.
    pub ctl: PathBuf,
    /// The `.dat` beside it; `None` for a report (MESH writes no payload for those).
    pub dat: Option<PathBuf>,
    /// The control file's fields.
    pub control: ControlFile,
}

impl Arrived {
    /// The report this entry is, when it is one (message type `Report` or an error
    /// `StatusRecord`).
    pub fn report(&self) -> Option<Report> {
        self.control
            .is_report()
            .then(|| Report::from_control(&self.control))
    }

    /// Reads the payload. A report has none: reading one is an error naming the
    /// missing `.dat`.
    pub fn payload(&self) -> Result<Vec<u8>, FolderError> {
        let dat = self
            .dat
            .clone()
            .unwrap_or_else(|| self.ctl.with_extension("dat"));
        fs::read(&dat).map_err(io_err(&dat))
    }

    /// Removes the entry's files once the message has been dealt with.
    pub fn remove(&self) -> Result<(), FolderError> {
        if let Some(dat) = &self.dat {
            fs::remove_file(dat).map_err(io_err(dat))?;
        }
        fs::remove_file(&self.ctl).map_err(io_err(&self.ctl))
    }
}

impl InFolder {
    /// The `IN` folder at `dir` (it must exist).
    pub fn open(dir: impl Into<PathBuf>) -> Result<Self, FolderError> {
        let dir = dir.into();
        fs::metadata(&dir).map_err(io_err(&dir))?;
        Ok(InFolder { dir })
    }

    /// The folder's path.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// Every `.ctl` in the folder, in name order, with its `.dat` when present.
    /// Hidden and temporary files are skipped. A control file that cannot be read
    /// fails the whole listing, naming the file, line and column.
    pub fn list(&self) -> Result<Vec<Arrived>, FolderError> {
        let mut names = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let entry = entry.map_err(io_err(&self.dir))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !name.to_ascii_lowercase().ends_with(".ctl") {
                continue;
            }
            names.push(entry.path());
        }
        names.sort();
        names
            .into_iter()
            .map(|ctl| {
                let text = fs::read_to_string(&ctl).map_err(io_err(&ctl))?;
                let control = ControlFile::parse(&text).map_err(|source| FolderError::Control {
                    path: ctl.clone(),
                    source,
                })?;
                let dat = ctl.with_extension("dat");
                let dat = dat.is_file().then_some(dat);
                Ok(Arrived { ctl, dat, control })
            })
            .collect()
    }
}
