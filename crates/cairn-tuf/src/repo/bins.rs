//! Hash bin layouts for repositories with many targets.
//!
//! - Classic hashed bins (PEP 458, python-tuf's `hashed_bin_delegation.py`
//!   example): `targets` delegates to N roles, each listing the hex prefixes
//!   of sha256(target path) it signs for. Prefixes are `len(hex(N-1))` digits
//!   long, each bin holds `16^len / N` consecutive prefixes and is named
//!   `LOW-HIGH` (or `LOW` when it holds one prefix).
//! - Succinct hash bins (TAP 15, as repository-service-tuf and Warehouse use
//!   them): one `succinct_roles` entry describes `2^BITS` bins named
//!   `PREFIX-HEX`, chosen by the first BITS bits of sha256(target path).

/// Most classic hashed bins `--hash-bins` accepts.
pub const MAX_HASH_BINS: u32 = 65_536;
/// Most bits `--succinct-bins` accepts (2^16 bins).
pub const MAX_SUCCINCT_BITS: u32 = 16;

/// How `targets` spreads its targets over bins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinLayout {
    /// PEP 458 hashed bins: this many roles (a power of two, 2..=65,536).
    Hashed(u32),
    /// TAP 15 succinct bins: `2^bits` roles (bits in 1..=16).
    Succinct(u32),
}

impl BinLayout {
    pub fn check(self) -> Result<Self, String> {
        match self {
            BinLayout::Hashed(n) if !(2..=MAX_HASH_BINS).contains(&n) || !n.is_power_of_two() => {
                Err(format!(
                    "--hash-bins {n}: must be a power of two from 2 to {MAX_HASH_BINS}"
                ))
            }
            BinLayout::Succinct(b) if b == 0 || b > MAX_SUCCINCT_BITS => Err(format!(
                "--succinct-bins {b}: must be from 1 to {MAX_SUCCINCT_BITS} bits"
            )),
            ok => Ok(ok),
        }
    }
}

/// The classic layout of `count` bins: `(name, hash prefixes)` in order.
pub fn hashed_bins(count: u32) -> Vec<(String, Vec<String>)> {
    let width = format!("{:x}", count - 1).len();
    let prefixes = 16u64.pow(width as u32);
    let size = prefixes / u64::from(count);
    (0..u64::from(count))
        .map(|i| {
            let low = i * size;
            let high = low + size - 1;
            let name = if low == high {
                format!("{low:0width$x}")
            } else {
                format!("{low:0width$x}-{high:0width$x}")
            };
            let list = (low..=high).map(|p| format!("{p:0width$x}")).collect();
            (name, list)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_python_tufs_example() {
        // python-tuf examples/manual_repo/hashed_bin_delegation.py, 32 bins.
        let bins = hashed_bins(32);
        assert_eq!(bins.len(), 32);
        assert_eq!(bins[0].0, "00-07");
        assert_eq!(bins[0].1, ["00", "01", "02", "03", "04", "05", "06", "07"]);
        assert_eq!(bins[31].0, "f8-ff");
        let bins = hashed_bins(16_384);
        assert_eq!(bins[0].0, "0000-0003");
        assert_eq!(bins[16_383].0, "fffc-ffff");
        let bins = hashed_bins(16);
        assert_eq!(bins[10].0, "a");
        assert_eq!(bins[10].1, ["a"]);
        assert!(BinLayout::Hashed(3).check().is_err());
        assert!(BinLayout::Hashed(131_072).check().is_err());
        assert!(BinLayout::Succinct(17).check().is_err());
        assert!(BinLayout::Succinct(8).check().is_ok());
    }
}
