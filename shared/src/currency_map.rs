//! `CurrencyMap`: values keyed by currency, as a JSON object (`{ "USD": …, "EUR": … }`). A map of
//! a few currencies kept as a sorted `Vec`: the same JSON and order as a `BTreeMap`, without the
//! B-tree's code, which was a tenth of the card's first-paint bundle.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::currency::Currency;

/// Values by currency, in currency order, each currency once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrencyMap<T>(Vec<(Currency, T)>);

impl<T> Default for CurrencyMap<T> {
    fn default() -> Self {
        Self(Vec::new())
    }
}

impl<T> CurrencyMap<T> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn get(&self, currency: &Currency) -> Option<&T> {
        let at = self.0.binary_search_by(|(c, _)| c.cmp(currency)).ok()?;
        Some(&self.0[at].1)
    }

    /// Sets `currency`'s value, answering the one it replaces.
    pub fn insert(&mut self, currency: Currency, value: T) -> Option<T> {
        match self.0.binary_search_by(|(c, _)| c.cmp(&currency)) {
            Ok(at) => Some(std::mem::replace(&mut self.0[at].1, value)),
            Err(at) => {
                self.0.insert(at, (currency, value));
                None
            }
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &Currency> {
        self.0.iter().map(|(c, _)| c)
    }

    pub fn iter(&self) -> impl Iterator<Item = (&Currency, &T)> {
        self.0.iter().map(|(c, v)| (c, v))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a, T> IntoIterator for &'a CurrencyMap<T> {
    type Item = (&'a Currency, &'a T);
    type IntoIter = std::iter::Map<std::slice::Iter<'a, (Currency, T)>, fn(&'a (Currency, T)) -> (&'a Currency, &'a T)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter().map(|(c, v)| (c, v))
    }
}

/// Later entries replace earlier ones of the same currency, as a `BTreeMap`'s would.
impl<T> FromIterator<(Currency, T)> for CurrencyMap<T> {
    fn from_iter<I: IntoIterator<Item = (Currency, T)>>(entries: I) -> Self {
        let mut map = Self::new();
        for (currency, value) in entries {
            map.insert(currency, value);
        }
        map
    }
}

impl<T, const N: usize> From<[(Currency, T); N]> for CurrencyMap<T> {
    fn from(entries: [(Currency, T); N]) -> Self {
        entries.into_iter().collect()
    }
}

impl<T: Serialize> Serialize for CurrencyMap<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (currency, value) in &self.0 {
            map.serialize_entry(currency, value)?;
        }
        map.end()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for CurrencyMap<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Entries<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for Entries<T> {
            type Value = CurrencyMap<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object keyed by ISO 4217 currency codes")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut map = CurrencyMap::new();
                while let Some((currency, value)) = access.next_entry::<Currency, T>()? {
                    map.insert(currency, value);
                }
                Ok(map)
            }
        }
        deserializer.deserialize_map(Entries(PhantomData))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;

    fn currency(index: usize) -> Currency {
        let codes = ["USD", "EUR", "SEK", "JPY", "GBP", "KWD", "CHF"];
        Currency::parse(codes[index % codes.len()]).unwrap()
    }

    proptest! {
        /// The same JSON, order and lookups as the `BTreeMap` it replaces, for any entries.
        #[test]
        fn behaves_as_a_btree_map(entries in proptest::collection::vec((0usize..7, any::<u32>()), 0..20)) {
            let ours: CurrencyMap<u32> = entries.iter().map(|&(c, v)| (currency(c), v)).collect();
            let theirs: BTreeMap<Currency, u32> = entries.iter().map(|&(c, v)| (currency(c), v)).collect();
            prop_assert_eq!(serde_json::to_string(&ours).unwrap(), serde_json::to_string(&theirs).unwrap());
            prop_assert_eq!(ours.len(), theirs.len());
            for c in 0..7 {
                prop_assert_eq!(ours.get(&currency(c)), theirs.get(&currency(c)));
            }
            let text = serde_json::to_string(&theirs).unwrap();
            prop_assert_eq!(serde_json::from_str::<CurrencyMap<u32>>(&text).unwrap(), ours);
        }
    }

    #[test]
    fn refuses_what_is_not_a_currency_object() {
        for bad in [r#"{"usd":1}"#, r#"{"XYZ":1}"#, r#"[["USD",1]]"#, r#"{"USD":"1"}"#] {
            assert!(serde_json::from_str::<CurrencyMap<u32>>(bad).is_err(), "{bad}");
        }
        let later_wins: CurrencyMap<u32> = serde_json::from_str(r#"{"USD":1,"USD":2}"#).unwrap();
        assert_eq!(later_wins.get(&Currency::parse("USD").unwrap()), Some(&2));
    }
}
