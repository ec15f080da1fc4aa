//! The one error type of kiln, and its `Result` alias.
//!
//! Every failure a user can cause or meet (a bad shape, a missing adapter, a wgpu validation
//! error, a lost device, a hung queue, a bad data file) comes back as an [`Error`] whose
//! message says what to fix.

use std::fmt;

/// `Result` with kiln's [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Everything that can go wrong in kiln.
#[derive(Debug, Clone, PartialEq)]
pub enum Error {
    /// No adapter could be opened; the message says how to get one.
    NoAdapter(String),
    /// The adapter or the host's device lacks a limit or feature kiln needs.
    Unsupported(String),
    /// Inputs to an op have shapes it cannot take. Found before anything is dispatched.
    Shape {
        /// The op, by its functional name (`matmul`, `attention`, ...).
        op: &'static str,
        /// What the op expected, in words.
        expected: String,
        /// The shapes it was given, in argument order.
        got: Vec<Vec<usize>>,
        /// Where the graph was built with this op (the user's call site), when known.
        at: Option<&'static std::panic::Location<'static>>,
    },
    /// A training run stopped on request (Ctrl-C, or a [`crate::train::Stopper`]) after
    /// saving a checkpoint that resumes exactly where it stopped.
    Interrupted {
        /// The run's folder, holding the checkpoint.
        dir: String,
        /// The last step taken.
        step: u64,
    },
    /// A tensor of the wrong element type was passed.
    DType {
        /// The op or call that rejected it.
        op: &'static str,
        /// What it expected and what it got.
        message: String,
    },
    /// Host data of the wrong length for a tensor.
    Length {
        /// What was being done (naming the input, for a plan's inputs).
        during: String,
        /// Elements the tensor holds.
        expected: usize,
        /// Elements supplied.
        got: usize,
    },
    /// wgpu reported a validation or out-of-memory error.
    Wgpu {
        /// What kiln was doing (a pipeline label, a submission).
        during: String,
        /// wgpu's message.
        message: String,
    },
    /// The device was lost; nothing more can run on this context.
    DeviceLost(String),
    /// The GPU did not finish in time: a hang becomes this error instead of a frozen process.
    Timeout {
        /// What was being waited for.
        during: String,
        /// How long kiln waited.
        seconds: f64,
    },
    /// A graph was used wrongly: an unknown input name, a value from another graph, a gradient
    /// that does not exist. The message names what and how to fix it.
    Graph(String),
    /// A data file (or a stored vocabulary) kiln cannot use: unreadable, invalid UTF-8, no usable
    /// lines. Names the file and the 1-based line; line 0 means the file as a whole.
    Data {
        /// The file, as the caller named it.
        path: String,
        /// 1-based line, or 0 for the whole file.
        line: usize,
        /// What is wrong and, where it helps, how to fix it.
        message: String,
    },
    /// A WGSL shader failed to parse or validate (a bug in kiln, reported with its file).
    Shader {
        /// The shader's file stem.
        name: String,
        /// naga's diagnostic.
        message: String,
    },
    /// A file could not be read, written or parsed (a checkpoint, a picture).
    Io {
        /// The file or directory.
        path: String,
        /// What went wrong, in words.
        message: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::NoAdapter(msg) => write!(f, "no GPU adapter: {msg}"),
            Error::Unsupported(msg) => write!(f, "unsupported: {msg}"),
            Error::Shape {
                op,
                expected,
                got,
                at,
            } => {
                let shapes: Vec<String> = got.iter().map(|s| format!("{s:?}")).collect();
                write!(
                    f,
                    "{op}: expected {expected}, got shapes {}",
                    shapes.join(" and ")
                )?;
                match at {
                    Some(at) => write!(f, " (at {at})"),
                    None => Ok(()),
                }
            }
            Error::DType { op, message } => write!(f, "{op}: {message}"),
            Error::Length {
                during,
                expected,
                got,
            } => write!(f, "{during}: expected {expected} elements, got {got}"),
            Error::Wgpu { during, message } => write!(f, "wgpu error during {during}: {message}"),
            Error::DeviceLost(msg) => write!(f, "the GPU device was lost: {msg}"),
            Error::Timeout { during, seconds } => {
                write!(f, "the GPU did not finish {during} within {seconds:.0} s")
            }
            Error::Graph(msg) => write!(f, "graph: {msg}"),
            Error::Interrupted { dir, step } => write!(
                f,
                "stopped on request after step {step}; the run is saved in {dir} and resumes \
                 exactly from there"
            ),
            Error::Shader { name, message } => write!(f, "shader {name}.wgsl: {message}"),
            Error::Data {
                path,
                line,
                message,
            } if *line == 0 => write!(f, "{path}: {message}"),
            Error::Data {
                path,
                line,
                message,
            } => write!(f, "{path}:{line}: {message}"),
            Error::Io { path, message } => write!(f, "{path}: {message}"),
        }
    }
}

impl std::error::Error for Error {}

/// Shorthand for building a [`Error::Shape`].
pub(crate) fn shape_error(
    op: &'static str,
    expected: impl Into<String>,
    got: &[&[usize]],
) -> Error {
    Error::Shape {
        op,
        expected: expected.into(),
        got: got.iter().map(|s| s.to_vec()).collect(),
        at: None,
    }
}

impl Error {
    /// Attaches the graph-building call site to a shape error; other errors pass unchanged.
    pub(crate) fn at(self, location: &'static std::panic::Location<'static>) -> Error {
        match self {
            Error::Shape {
                op,
                expected,
                got,
                at: None,
            } => Error::Shape {
                op,
                expected,
                got,
                at: Some(location),
            },
            other => other,
        }
    }
}
