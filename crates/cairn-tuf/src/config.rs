//! Every limit of the client in one place (the defaults are python-tuf's).

/// Limits and switches for [`crate::Updater`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Most root versions fetched in one update (§5.3: stops fast-forwarding
    /// through an endless chain of roots).
    pub max_root_rotations: u64,
    /// Most roles visited in one target search (§5.6.7).
    pub max_delegations: usize,
    /// Largest root file fetched: root is never listed with a length.
    pub root_max_length: u64,
    /// Largest timestamp file fetched: timestamp is never listed with a length.
    pub timestamp_max_length: u64,
    /// Largest snapshot when timestamp does not list its length.
    pub snapshot_max_length: u64,
    /// Largest targets metadata when snapshot does not list its length.
    pub targets_max_length: u64,
    /// Fetch targets as `HASH.NAME` when root says consistent_snapshot.
    pub prefix_targets_with_hash: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_root_rotations: 256,
            max_delegations: 32,
            root_max_length: 512_000,
            timestamp_max_length: 16_384,
            snapshot_max_length: 2_000_000,
            targets_max_length: 5_000_000,
            prefix_targets_with_hash: true,
        }
    }
}
