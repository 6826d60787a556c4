//! Tag numbers and data types of the rpm header format, as `lib/rpmtag.h` defines them.
//!
//! Only the tags cairn reads are named; the parser itself accepts every tag number rpm accepts.

/// Region tags: the first index entry of a header that carries an immutable region.
pub const HEADERIMAGE: u32 = 61;
pub const HEADERSIGNATURES: u32 = 62;
pub const HEADERIMMUTABLE: u32 = 63;
/// Tags below this number are reserved for regions; rpm rejects them anywhere else.
pub const HEADERI18NTABLE: u32 = 100;

pub const NAME: u32 = 1000;
pub const VERSION: u32 = 1001;
pub const RELEASE: u32 = 1002;
pub const EPOCH: u32 = 1003;
pub const SIZE: u32 = 1009;
pub const VENDOR: u32 = 1011;
pub const LICENSE: u32 = 1014;
pub const ARCH: u32 = 1022;
pub const OLDFILENAMES: u32 = 1027;
pub const FILESIZES: u32 = 1028;
pub const FILEMODES: u32 = 1030;
pub const FILEDIGESTS: u32 = 1035;
pub const FILEFLAGS: u32 = 1037;
pub const SOURCERPM: u32 = 1044;
pub const PROVIDENAME: u32 = 1047;
pub const REQUIRENAME: u32 = 1049;
pub const DIRINDEXES: u32 = 1116;
pub const BASENAMES: u32 = 1117;
pub const DIRNAMES: u32 = 1118;
pub const FILEDIGESTALGO: u32 = 5011;
pub const LONGFILESIZES: u32 = 5008;
pub const LONGSIZE: u32 = 5009;
pub const MODULARITYLABEL: u32 = 5096;

/// The data type of an index entry (`rpmTagType_e`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TagType {
    Null,
    Char,
    Int8,
    Int16,
    Int32,
    Int64,
    String,
    Bin,
    StringArray,
    I18nString,
}

impl TagType {
    pub fn from_raw(raw: u32) -> Option<Self> {
        Some(match raw {
            0 => Self::Null,
            1 => Self::Char,
            2 => Self::Int8,
            3 => Self::Int16,
            4 => Self::Int32,
            5 => Self::Int64,
            6 => Self::String,
            7 => Self::Bin,
            8 => Self::StringArray,
            9 => Self::I18nString,
            _ => return None,
        })
    }

    /// Size of one element for fixed-size types; `None` for the NUL-terminated string types.
    pub fn element_size(self) -> Option<usize> {
        match self {
            Self::Null => Some(0),
            Self::Char | Self::Int8 | Self::Bin => Some(1),
            Self::Int16 => Some(2),
            Self::Int32 => Some(4),
            Self::Int64 => Some(8),
            Self::String | Self::StringArray | Self::I18nString => None,
        }
    }

    /// Required alignment of the entry's offset in the data store.
    pub fn alignment(self) -> usize {
        self.element_size().unwrap_or(1).max(1)
    }
}

impl std::fmt::Display for TagType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = match self {
            Self::Null => "NULL",
            Self::Char => "CHAR",
            Self::Int8 => "INT8",
            Self::Int16 => "INT16",
            Self::Int32 => "INT32",
            Self::Int64 => "INT64",
            Self::String => "STRING",
            Self::Bin => "BIN",
            Self::StringArray => "STRING_ARRAY",
            Self::I18nString => "I18NSTRING",
        };
        f.write_str(name)
    }
}
