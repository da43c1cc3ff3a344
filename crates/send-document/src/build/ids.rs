//! Where the builder's UUIDs come from.

use uuid::Uuid;

/// Where the builder takes its UUIDs (resource ids, identifiers) from.
///
/// Every id of a message is a version 4 UUID. [`Random`](IdSource::Random), the
/// default, draws them from the operating system's generator. [`Seeded`](IdSource::Seeded)
/// derives them from a number, so that the same inputs, seed and creation time give
/// the same message byte for byte (tests, golden files); never use it for messages
/// that are sent, whose identifiers must be unique.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum IdSource {
    /// Fresh random UUIDs.
    #[default]
    Random,
    /// UUIDs derived from this seed (SplitMix64), still version 4 in form.
    Seeded(u64),
}

/// The generator for one message.
pub(crate) struct Ids {
    state: Option<u64>,
}

impl Ids {
    pub fn new(source: IdSource) -> Self {
        Ids {
            state: match source {
                IdSource::Random => None,
                IdSource::Seeded(seed) => Some(seed),
            },
        }
    }

    fn next_u64(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next UUID.
    pub fn next(&mut self) -> Uuid {
        match &mut self.state {
            None => Uuid::new_v4(),
            Some(state) => {
                let mut bytes = [0u8; 16];
                bytes[..8].copy_from_slice(&Self::next_u64(state).to_le_bytes());
                bytes[8..].copy_from_slice(&Self::next_u64(state).to_le_bytes());
                uuid::Builder::from_random_bytes(bytes).into_uuid()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_repeat_and_differ() {
        let mut a = Ids::new(IdSource::Seeded(7));
        let mut b = Ids::new(IdSource::Seeded(7));
        let first = a.next();
        assert_eq!(first, b.next());
        assert_ne!(first, a.next());
        assert_eq!(first.get_version_num(), 4);
        assert_ne!(
            Ids::new(IdSource::Seeded(8)).next(),
            Ids::new(IdSource::Seeded(7)).next()
        );
        let mut r = Ids::new(IdSource::Random);
        assert_ne!(r.next(), r.next());
    }
}
