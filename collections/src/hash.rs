//! [`HashMap`] and [`HashSet`]: hashbrown's Swiss tables over the [`Heap`].
//!
//! # Design choice: thin newtypes with `Deref`
//!
//! hashbrown's `HashMap::new()` and `with_capacity()` exist only for its
//! `Global` allocator, so a plain type alias over [`Heap`] would lose them
//! (or need an extension trait the user must import). [`HashMap`] and
//! [`HashSet`] are therefore `#[repr(transparent)]` newtypes around
//! [`hashbrown::HashMap`] / [`hashbrown::HashSet`] that
//!
//! - add std's constructors for the [`Heap`] (`new`, `with_capacity`,
//!   `with_hasher`, `with_capacity_and_hasher`; like std's, they fix the
//!   defaulted parameters so `HashMap::new()` needs no annotation) plus the
//!   `*_in` forms for any allocator (`Default` also works for any
//!   `A: Default`);
//! - `Deref`/`DerefMut` to the hashbrown type, so **every** hashbrown method
//!   (the full entry API, `entry_ref`, raw entries, `extract_if`,
//!   `get_many_mut`, ...) is available unchanged;
//! - forward the std trait impls (`Clone`, `Debug`, `Default`, `PartialEq`,
//!   `Eq`, `Index`, `FromIterator`, `Extend`, `IntoIterator`, `From<[_; N]>`,
//!   serde with the `serde` feature), so switching from
//!   `std::collections::HashMap` is a change of import;
//! - shadow `try_reserve` to return the crate's shared
//!   [`TryReserveError`].
//!
//! [`into_inner`](HashMap::into_inner) and `From` convert to and from the
//! hashbrown type at no cost.
//!
//! # Guarantees
//!
//! Every table allocation goes to the allocator `A` ([`Heap`] by default).
//! Tables grow by rehashing into a new allocation (hashbrown's design:
//! entries move, so references never survive an insert).
//!
//! ```
//! use mallocv2_collections::hash::HashMap;
//!
//! let mut m = HashMap::new();
//! *m.entry("a").or_insert(0) += 1;
//! *m.entry("a").or_insert(0) += 1;
//! assert_eq!(m["a"], 2);
//! ```

use core::borrow::Borrow;
use core::fmt;
use core::hash::{BuildHasher, Hash};
use core::ops::{BitAnd, BitOr, BitXor, Deref, DerefMut, Index, Sub};

use mallocv2::alloc::Allocator;
use mallocv2::Heap;

use crate::TryReserveError;

pub use hashbrown::hash_map::{
    Drain, Entry, EntryRef, ExtractIf, IntoIter, IntoKeys, IntoValues, Iter, IterMut, Keys,
    OccupiedEntry, OccupiedError, VacantEntry, Values, ValuesMut,
};
pub use hashbrown::hash_set::{Difference, Intersection, SymmetricDifference, Union};
pub use hashbrown::DefaultHashBuilder;

/// The set iterators, under the names std uses in `std::collections::hash_set`.
pub mod set {
    pub use hashbrown::hash_set::{
        Difference, Drain, Entry, ExtractIf, Intersection, IntoIter, Iter, OccupiedEntry,
        SymmetricDifference, Union, VacantEntry,
    };
}

fn map_err(e: hashbrown::TryReserveError) -> TryReserveError {
    match e {
        hashbrown::TryReserveError::CapacityOverflow => TryReserveError::CapacityOverflow,
        hashbrown::TryReserveError::AllocError { layout } => TryReserveError::AllocError { layout },
    }
}

/// A hash map over the [`Heap`]: [`hashbrown::HashMap`] with std's
/// constructors. Every hashbrown method is reached through `Deref`.
///
/// ```
/// use mallocv2_collections::hash::{Entry, HashMap};
///
/// let mut m: HashMap<String, u32> = HashMap::with_capacity(8);
/// m.insert("x".to_string(), 1);
/// match m.entry("y".to_string()) {
///     Entry::Vacant(v) => { v.insert(2); }
///     Entry::Occupied(_) => unreachable!(),
/// }
/// assert_eq!(m.len(), 2);
/// let std_like: std::collections::BTreeMap<_, _> = m.into_iter().collect();
/// assert_eq!(std_like["y"], 2);
/// ```
#[repr(transparent)]
pub struct HashMap<K, V, S = DefaultHashBuilder, A: Allocator = Heap>(
    /// The hashbrown map this wraps.
    pub hashbrown::HashMap<K, V, S, A>,
);

impl<K, V> HashMap<K, V> {
    /// An empty map; allocates nothing until the first insert.
    ///
    /// ```
    /// let m: mallocv2_collections::hash::HashMap<u8, u8> =
    ///     mallocv2_collections::hash::HashMap::new();
    /// assert!(m.is_empty());
    /// ```
    #[inline]
    pub fn new() -> Self {
        Self(hashbrown::HashMap::with_hasher_in(
            DefaultHashBuilder::default(),
            Heap,
        ))
    }

    /// An empty map with room for at least `capacity` entries.
    ///
    /// # Panics
    /// If the table size overflows or the allocator fails (hashbrown's
    /// behaviour); use [`new`](Self::new) + [`try_reserve`](Self::try_reserve)
    /// to handle that.
    ///
    /// ```
    /// let m: mallocv2_collections::hash::HashMap<u8, u8> =
    ///     mallocv2_collections::hash::HashMap::with_capacity(100);
    /// assert!(m.capacity() >= 100);
    /// ```
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        Self(hashbrown::HashMap::with_capacity_and_hasher_in(
            capacity,
            DefaultHashBuilder::default(),
            Heap,
        ))
    }
}

impl<K, V, S> HashMap<K, V, S> {
    /// An empty map using `hasher`.
    ///
    /// ```
    /// use mallocv2_collections::hash::{DefaultHashBuilder, HashMap};
    /// let m: HashMap<u8, u8> = HashMap::with_hasher(DefaultHashBuilder::default());
    /// assert!(m.is_empty());
    /// ```
    #[inline]
    pub fn with_hasher(hasher: S) -> Self {
        Self(hashbrown::HashMap::with_hasher_in(hasher, Heap))
    }

    /// An empty map with room for `capacity` entries, using `hasher`.
    ///
    /// # Panics
    /// As [`with_capacity`](Self::with_capacity).
    ///
    /// ```
    /// use mallocv2_collections::hash::{DefaultHashBuilder, HashMap};
    /// let m: HashMap<u8, u8> = HashMap::with_capacity_and_hasher(9, DefaultHashBuilder::default());
    /// assert!(m.capacity() >= 9);
    /// ```
    #[inline]
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self(hashbrown::HashMap::with_capacity_and_hasher_in(
            capacity, hasher, Heap,
        ))
    }
}

impl<K, V, A: Allocator> HashMap<K, V, DefaultHashBuilder, A> {
    /// An empty map in `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::hash::HashMap;
    /// let m: HashMap<u8, u8> = HashMap::new_in(mallocv2::Heap);
    /// assert!(m.is_empty());
    /// ```
    #[inline]
    pub fn new_in(alloc: A) -> Self {
        Self(hashbrown::HashMap::with_hasher_in(
            DefaultHashBuilder::default(),
            alloc,
        ))
    }

    /// An empty map in `alloc` with room for `capacity` entries.
    ///
    /// # Panics
    /// As [`with_capacity`](HashMap::with_capacity).
    ///
    /// ```
    /// use mallocv2_collections::hash::HashMap;
    /// let m: HashMap<u8, u8> = HashMap::with_capacity_in(5, mallocv2::Heap);
    /// assert!(m.capacity() >= 5);
    /// ```
    #[inline]
    pub fn with_capacity_in(capacity: usize, alloc: A) -> Self {
        Self(hashbrown::HashMap::with_capacity_and_hasher_in(
            capacity,
            DefaultHashBuilder::default(),
            alloc,
        ))
    }
}

impl<K, V, S, A: Allocator> HashMap<K, V, S, A> {
    /// An empty map using `hasher` in `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::hash::{DefaultHashBuilder, HashMap};
    /// let m: HashMap<u8, u8> = HashMap::with_hasher_in(DefaultHashBuilder::default(), mallocv2::Heap);
    /// assert!(m.is_empty());
    /// ```
    #[inline]
    pub const fn with_hasher_in(hasher: S, alloc: A) -> Self {
        Self(hashbrown::HashMap::with_hasher_in(hasher, alloc))
    }

    /// An empty map with room for `capacity` entries, using `hasher`, in
    /// `alloc`.
    ///
    /// # Panics
    /// As [`with_capacity`](HashMap::with_capacity).
    ///
    /// ```
    /// use mallocv2_collections::hash::{DefaultHashBuilder, HashMap};
    /// let m: HashMap<u8, u8> =
    ///     HashMap::with_capacity_and_hasher_in(3, DefaultHashBuilder::default(), mallocv2::Heap);
    /// assert!(m.capacity() >= 3);
    /// ```
    #[inline]
    pub fn with_capacity_and_hasher_in(capacity: usize, hasher: S, alloc: A) -> Self {
        Self(hashbrown::HashMap::with_capacity_and_hasher_in(
            capacity, hasher, alloc,
        ))
    }

    /// The wrapped hashbrown map.
    ///
    /// ```
    /// let m: mallocv2_collections::hash::HashMap<u8, u8> = [(1, 2)].into();
    /// let h: hashbrown::HashMap<u8, u8, _, mallocv2::Heap> = m.into_inner();
    /// assert_eq!(h[&1], 2);
    /// ```
    #[inline]
    pub fn into_inner(self) -> hashbrown::HashMap<K, V, S, A> {
        self.0
    }

    /// An iterator over the keys, consuming the map (std's `into_keys`).
    ///
    /// ```
    /// let m: mallocv2_collections::hash::HashMap<u8, u8> = [(1, 2)].into();
    /// assert_eq!(m.into_keys().collect::<Vec<_>>(), [1]);
    /// ```
    #[inline]
    pub fn into_keys(self) -> IntoKeys<K, V, A> {
        self.0.into_keys()
    }

    /// An iterator over the values, consuming the map (std's `into_values`).
    ///
    /// ```
    /// let m: mallocv2_collections::hash::HashMap<u8, u8> = [(1, 2)].into();
    /// assert_eq!(m.into_values().collect::<Vec<_>>(), [2]);
    /// ```
    #[inline]
    pub fn into_values(self) -> IntoValues<K, V, A> {
        self.0.into_values()
    }
}

impl<K: Eq + Hash, V, S: BuildHasher, A: Allocator> HashMap<K, V, S, A> {
    /// Reserves room for at least `additional` more entries.
    ///
    /// # Errors
    /// [`TryReserveError::CapacityOverflow`] when the table size overflows,
    /// [`TryReserveError::AllocError`] when the allocator refuses. On error
    /// the map is unchanged: every entry is kept.
    ///
    /// ```
    /// use mallocv2_collections::{hash::HashMap, TryReserveError};
    /// let mut m: HashMap<u64, u64> = HashMap::new();
    /// m.try_reserve(1000)?;
    /// assert!(m.capacity() >= 1000);
    /// assert_eq!(m.try_reserve(usize::MAX), Err(TryReserveError::CapacityOverflow));
    /// # Ok::<(), TryReserveError>(())
    /// ```
    #[inline]
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.0.try_reserve(additional).map_err(map_err)
    }
}

impl<K, V, S, A: Allocator> Deref for HashMap<K, V, S, A> {
    type Target = hashbrown::HashMap<K, V, S, A>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<K, V, S, A: Allocator> DerefMut for HashMap<K, V, S, A> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<K, V, S, A: Allocator> From<hashbrown::HashMap<K, V, S, A>> for HashMap<K, V, S, A> {
    #[inline]
    fn from(m: hashbrown::HashMap<K, V, S, A>) -> Self {
        Self(m)
    }
}

impl<K, V, S, A: Allocator> From<HashMap<K, V, S, A>> for hashbrown::HashMap<K, V, S, A> {
    #[inline]
    fn from(m: HashMap<K, V, S, A>) -> Self {
        m.0
    }
}

/// For the [`Heap`] only, like std's (so `HashMap::from([..])` needs no
/// annotation).
impl<K: Eq + Hash, V, const N: usize> From<[(K, V); N]> for HashMap<K, V> {
    fn from(arr: [(K, V); N]) -> Self {
        Self(hashbrown::HashMap::from(arr))
    }
}

/// Rebuilds the table by inserting clones of the entries, rather than
/// using hashbrown's table clone: that one asks for a table of the source's
/// bucket count, then copies the control bytes and entries index for index
/// over the *new* table's bucket count. hashbrown gives a new table more
/// buckets when the allocator returns a larger block than asked for, which
/// the [`Heap`] does (a large block's usable size is its whole committed
/// span, and a freed span up to 16 times the request is reused whole): the
/// copy then reads past the source's control bytes and leaves entries in
/// the wrong slots (hashbrown 0.17). Hence the `Eq + Hash` and
/// `BuildHasher` bounds, which std's `Clone` does not need.
impl<K, V, S, A> Clone for HashMap<K, V, S, A>
where
    K: Clone + Eq + Hash,
    V: Clone,
    S: Clone + BuildHasher,
    A: Allocator + Clone,
{
    fn clone(&self) -> Self {
        let mut m = hashbrown::HashMap::with_capacity_and_hasher_in(
            self.len(),
            self.hasher().clone(),
            self.allocator().clone(),
        );
        for (k, v) in self.iter() {
            m.insert(k.clone(), v.clone());
        }
        Self(m)
    }
}

impl<K: fmt::Debug, V: fmt::Debug, S, A: Allocator> fmt::Debug for HashMap<K, V, S, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<K, V, S: Default, A: Allocator + Default> Default for HashMap<K, V, S, A> {
    #[inline]
    fn default() -> Self {
        Self(hashbrown::HashMap::default())
    }
}

impl<K, V, S, A> PartialEq for HashMap<K, V, S, A>
where
    K: Eq + Hash,
    V: PartialEq,
    S: BuildHasher,
    A: Allocator,
{
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<K, V, S, A> Eq for HashMap<K, V, S, A>
where
    K: Eq + Hash,
    V: Eq,
    S: BuildHasher,
    A: Allocator,
{
}

impl<K, Q, V, S, A> Index<&Q> for HashMap<K, V, S, A>
where
    K: Eq + Hash + Borrow<Q>,
    Q: Hash + Eq + ?Sized,
    S: BuildHasher,
    A: Allocator,
{
    type Output = V;

    /// # Panics
    /// If the key is not present.
    #[inline]
    fn index(&self, key: &Q) -> &V {
        self.0.get(key).expect("HashMap: key not present")
    }
}

impl<K, V, S, A> FromIterator<(K, V)> for HashMap<K, V, S, A>
where
    K: Eq + Hash,
    S: BuildHasher + Default,
    A: Default + Allocator,
{
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(hashbrown::HashMap::from_iter(iter))
    }
}

impl<K, V, S, A> Extend<(K, V)> for HashMap<K, V, S, A>
where
    K: Eq + Hash,
    S: BuildHasher,
    A: Allocator,
{
    #[inline]
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<'a, K, V, S, A> Extend<(&'a K, &'a V)> for HashMap<K, V, S, A>
where
    K: Eq + Hash + Copy,
    V: Copy,
    S: BuildHasher,
    A: Allocator,
{
    #[inline]
    fn extend<I: IntoIterator<Item = (&'a K, &'a V)>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<K, V, S, A: Allocator> IntoIterator for HashMap<K, V, S, A> {
    type Item = (K, V);
    type IntoIter = IntoIter<K, V, A>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, K, V, S, A: Allocator> IntoIterator for &'a HashMap<K, V, S, A> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'a, K, V, S, A: Allocator> IntoIterator for &'a mut HashMap<K, V, S, A> {
    type Item = (&'a K, &'a mut V);
    type IntoIter = IterMut<'a, K, V>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter_mut()
    }
}

#[cfg(feature = "serde")]
impl<K, V, H, A> serde::Serialize for HashMap<K, V, H, A>
where
    K: serde::Serialize + Eq + Hash,
    V: serde::Serialize,
    H: BuildHasher,
    A: Allocator,
{
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(feature = "serde")]
impl<'de, K, V, S, A> serde::Deserialize<'de> for HashMap<K, V, S, A>
where
    K: serde::Deserialize<'de> + Eq + Hash,
    V: serde::Deserialize<'de>,
    S: BuildHasher + Default,
    A: Allocator + Default,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        hashbrown::HashMap::deserialize(deserializer).map(Self)
    }
}

/// A hash set over the [`Heap`]: [`hashbrown::HashSet`] with std's
/// constructors. Every hashbrown method is reached through `Deref`.
///
/// ```
/// use mallocv2_collections::hash::HashSet;
///
/// let a: HashSet<i32> = [1, 2, 3].into_iter().collect();
/// let b: HashSet<i32> = [2, 3, 4].into_iter().collect();
/// let both = &a & &b;
/// assert_eq!(both.len(), 2);
/// assert!(both.contains(&2));
/// ```
#[repr(transparent)]
pub struct HashSet<T, S = DefaultHashBuilder, A: Allocator = Heap>(
    /// The hashbrown set this wraps.
    pub hashbrown::HashSet<T, S, A>,
);

impl<T> HashSet<T> {
    /// An empty set; allocates nothing until the first insert.
    ///
    /// ```
    /// let s: mallocv2_collections::hash::HashSet<u8> = mallocv2_collections::hash::HashSet::new();
    /// assert!(s.is_empty());
    /// ```
    #[inline]
    pub fn new() -> Self {
        Self(hashbrown::HashSet::with_hasher_in(
            DefaultHashBuilder::default(),
            Heap,
        ))
    }

    /// An empty set with room for at least `capacity` elements.
    ///
    /// # Panics
    /// If the table size overflows or the allocator fails.
    ///
    /// ```
    /// let s: mallocv2_collections::hash::HashSet<u8> =
    ///     mallocv2_collections::hash::HashSet::with_capacity(10);
    /// assert!(s.capacity() >= 10);
    /// ```
    #[inline]
    pub fn with_capacity(capacity: usize) -> Self {
        Self(hashbrown::HashSet::with_capacity_and_hasher_in(
            capacity,
            DefaultHashBuilder::default(),
            Heap,
        ))
    }
}

impl<T, S> HashSet<T, S> {
    /// An empty set using `hasher`.
    ///
    /// ```
    /// use mallocv2_collections::hash::{DefaultHashBuilder, HashSet};
    /// let s: HashSet<u8> = HashSet::with_hasher(DefaultHashBuilder::default());
    /// assert!(s.is_empty());
    /// ```
    #[inline]
    pub fn with_hasher(hasher: S) -> Self {
        Self(hashbrown::HashSet::with_hasher_in(hasher, Heap))
    }

    /// An empty set with room for `capacity` elements, using `hasher`.
    ///
    /// # Panics
    /// As [`with_capacity`](HashSet::with_capacity).
    ///
    /// ```
    /// use mallocv2_collections::hash::{DefaultHashBuilder, HashSet};
    /// let s: HashSet<u8> = HashSet::with_capacity_and_hasher(4, DefaultHashBuilder::default());
    /// assert!(s.capacity() >= 4);
    /// ```
    #[inline]
    pub fn with_capacity_and_hasher(capacity: usize, hasher: S) -> Self {
        Self(hashbrown::HashSet::with_capacity_and_hasher_in(
            capacity, hasher, Heap,
        ))
    }
}

impl<T, A: Allocator> HashSet<T, DefaultHashBuilder, A> {
    /// An empty set in `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::hash::HashSet;
    /// let s: HashSet<u8> = HashSet::new_in(mallocv2::Heap);
    /// assert!(s.is_empty());
    /// ```
    #[inline]
    pub fn new_in(alloc: A) -> Self {
        Self(hashbrown::HashSet::with_hasher_in(
            DefaultHashBuilder::default(),
            alloc,
        ))
    }

    /// An empty set in `alloc` with room for `capacity` elements.
    ///
    /// # Panics
    /// As [`with_capacity`](HashSet::with_capacity).
    ///
    /// ```
    /// use mallocv2_collections::hash::HashSet;
    /// let s: HashSet<u8> = HashSet::with_capacity_in(4, mallocv2::Heap);
    /// assert!(s.capacity() >= 4);
    /// ```
    #[inline]
    pub fn with_capacity_in(capacity: usize, alloc: A) -> Self {
        Self(hashbrown::HashSet::with_capacity_and_hasher_in(
            capacity,
            DefaultHashBuilder::default(),
            alloc,
        ))
    }
}

impl<T, S, A: Allocator> HashSet<T, S, A> {
    /// An empty set using `hasher` in `alloc`.
    ///
    /// ```
    /// use mallocv2_collections::hash::{DefaultHashBuilder, HashSet};
    /// let s: HashSet<u8> = HashSet::with_hasher_in(DefaultHashBuilder::default(), mallocv2::Heap);
    /// assert!(s.is_empty());
    /// ```
    #[inline]
    pub const fn with_hasher_in(hasher: S, alloc: A) -> Self {
        Self(hashbrown::HashSet::with_hasher_in(hasher, alloc))
    }

    /// An empty set with room for `capacity` elements, using `hasher`, in
    /// `alloc`.
    ///
    /// # Panics
    /// As [`with_capacity`](HashSet::with_capacity).
    ///
    /// ```
    /// use mallocv2_collections::hash::{DefaultHashBuilder, HashSet};
    /// let s: HashSet<u8> =
    ///     HashSet::with_capacity_and_hasher_in(2, DefaultHashBuilder::default(), mallocv2::Heap);
    /// assert!(s.capacity() >= 2);
    /// ```
    #[inline]
    pub fn with_capacity_and_hasher_in(capacity: usize, hasher: S, alloc: A) -> Self {
        Self(hashbrown::HashSet::with_capacity_and_hasher_in(
            capacity, hasher, alloc,
        ))
    }

    /// The wrapped hashbrown set.
    ///
    /// ```
    /// let s: mallocv2_collections::hash::HashSet<u8> = [1].into_iter().collect();
    /// assert!(s.into_inner().contains(&1));
    /// ```
    #[inline]
    pub fn into_inner(self) -> hashbrown::HashSet<T, S, A> {
        self.0
    }
}

impl<T: Eq + Hash, S: BuildHasher, A: Allocator> HashSet<T, S, A> {
    /// Reserves room for at least `additional` more elements.
    ///
    /// # Errors
    /// As [`HashMap::try_reserve`]; the set is unchanged on error.
    ///
    /// ```
    /// use mallocv2_collections::{hash::HashSet, TryReserveError};
    /// let mut s: HashSet<u64> = HashSet::new();
    /// s.try_reserve(10)?;
    /// assert!(s.capacity() >= 10);
    /// # Ok::<(), TryReserveError>(())
    /// ```
    #[inline]
    pub fn try_reserve(&mut self, additional: usize) -> Result<(), TryReserveError> {
        self.0.try_reserve(additional).map_err(map_err)
    }
}

impl<T, S, A: Allocator> Deref for HashSet<T, S, A> {
    type Target = hashbrown::HashSet<T, S, A>;
    #[inline]
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl<T, S, A: Allocator> DerefMut for HashSet<T, S, A> {
    #[inline]
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<T, S, A: Allocator> From<hashbrown::HashSet<T, S, A>> for HashSet<T, S, A> {
    #[inline]
    fn from(s: hashbrown::HashSet<T, S, A>) -> Self {
        Self(s)
    }
}

impl<T, S, A: Allocator> From<HashSet<T, S, A>> for hashbrown::HashSet<T, S, A> {
    #[inline]
    fn from(s: HashSet<T, S, A>) -> Self {
        s.0
    }
}

/// For the [`Heap`] only, like std's.
impl<T: Eq + Hash, const N: usize> From<[T; N]> for HashSet<T> {
    fn from(arr: [T; N]) -> Self {
        Self(hashbrown::HashSet::from(arr))
    }
}

/// Rebuilds the table by inserting clones, for the reason given at
/// [`HashMap`]'s `Clone`.
impl<T, S, A> Clone for HashSet<T, S, A>
where
    T: Clone + Eq + Hash,
    S: Clone + BuildHasher,
    A: Allocator + Clone,
{
    fn clone(&self) -> Self {
        let mut s = hashbrown::HashSet::with_capacity_and_hasher_in(
            self.len(),
            self.hasher().clone(),
            self.allocator().clone(),
        );
        for x in self.iter() {
            s.insert(x.clone());
        }
        Self(s)
    }
}

impl<T: fmt::Debug, S, A: Allocator> fmt::Debug for HashSet<T, S, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl<T, S: Default, A: Allocator + Default> Default for HashSet<T, S, A> {
    #[inline]
    fn default() -> Self {
        Self(hashbrown::HashSet::default())
    }
}

impl<T: Eq + Hash, S: BuildHasher, A: Allocator> PartialEq for HashSet<T, S, A> {
    fn eq(&self, other: &Self) -> bool {
        self.0 == other.0
    }
}

impl<T: Eq + Hash, S: BuildHasher, A: Allocator> Eq for HashSet<T, S, A> {}

impl<T, S, A> FromIterator<T> for HashSet<T, S, A>
where
    T: Eq + Hash,
    S: BuildHasher + Default,
    A: Default + Allocator,
{
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        Self(hashbrown::HashSet::from_iter(iter))
    }
}

impl<T: Eq + Hash, S: BuildHasher, A: Allocator> Extend<T> for HashSet<T, S, A> {
    #[inline]
    fn extend<I: IntoIterator<Item = T>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<'a, T, S, A> Extend<&'a T> for HashSet<T, S, A>
where
    T: 'a + Eq + Hash + Copy,
    S: BuildHasher,
    A: Allocator,
{
    #[inline]
    fn extend<I: IntoIterator<Item = &'a T>>(&mut self, iter: I) {
        self.0.extend(iter);
    }
}

impl<T, S, A: Allocator> IntoIterator for HashSet<T, S, A> {
    type Item = T;
    type IntoIter = set::IntoIter<T, A>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a, T, S, A: Allocator> IntoIterator for &'a HashSet<T, S, A> {
    type Item = &'a T;
    type IntoIter = set::Iter<'a, T>;
    #[inline]
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

macro_rules! set_op {
    ($tr:ident, $f:ident, $doc:literal) => {
        impl<T, S, A> $tr<&HashSet<T, S, A>> for &HashSet<T, S, A>
        where
            T: Eq + Hash + Clone,
            S: BuildHasher + Default,
            A: Allocator + Default,
        {
            type Output = HashSet<T, S, A>;
            #[doc = $doc]
            fn $f(self, rhs: &HashSet<T, S, A>) -> HashSet<T, S, A> {
                HashSet((&self.0).$f(&rhs.0))
            }
        }
    };
}
set_op!(BitOr, bitor, "The union, as a new set.");
set_op!(BitAnd, bitand, "The intersection, as a new set.");
set_op!(BitXor, bitxor, "The symmetric difference, as a new set.");
set_op!(Sub, sub, "The difference, as a new set.");

#[cfg(feature = "serde")]
impl<T, H, A> serde::Serialize for HashSet<T, H, A>
where
    T: serde::Serialize + Eq + Hash,
    H: BuildHasher,
    A: Allocator,
{
    fn serialize<Ser: serde::Serializer>(&self, serializer: Ser) -> Result<Ser::Ok, Ser::Error> {
        self.0.serialize(serializer)
    }
}

#[cfg(feature = "serde")]
impl<'de, T, S, A> serde::Deserialize<'de> for HashSet<T, S, A>
where
    T: serde::Deserialize<'de> + Eq + Hash,
    S: BuildHasher + Default,
    A: Allocator + Default,
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        hashbrown::HashSet::deserialize(deserializer).map(Self)
    }
}

#[cfg(test)]
mod tests {
    use super::{HashMap, HashSet};
    use mallocv2::Heap;

    /// A clone whose new table comes from a larger cached span: the `Heap`
    /// hands the span out whole, and hashbrown then gives the table more
    /// buckets than the source has (found by `fuzz/ops/hashset.rs`).
    #[test]
    fn clone_into_an_oversized_block() {
        let n = 20_000u64;
        // 32768 buckets: a table above the large-block threshold.
        let m: HashMap<u64, u64> = (0..n).map(|i| (i, i * 3)).collect();
        let s: HashSet<u64> = (0..n).collect();
        for round in 0..4 {
            Heap::trim();
            // Freed into the span cache: 262144 buckets, about 8 times the
            // size of the clones' tables.
            drop(HashMap::<u64, u64>::with_capacity(200_000));
            let c = if round % 2 == 0 {
                m.clone()
            } else {
                let mut c = HashMap::new();
                c.clone_from(&m);
                c
            };
            assert_eq!(c.len(), m.len());
            assert!(
                (0..n).all(|i| c.get(&i) == Some(&(i * 3))),
                "lookups in the clone"
            );
            assert!(c == m);
            drop(HashSet::<u64>::with_capacity(400_000));
            let d = s.clone();
            assert_eq!(d.len(), s.len());
            assert!((0..n).all(|i| d.contains(&i)), "lookups in the set clone");
            assert!(d == s);
        }
    }

    /// hashbrown's own table clone over the `Heap` (reached through the
    /// public inner map): the `Heap` never hands hashbrown a recycled span
    /// larger than the request rounded to pages, so the clone's table has
    /// the source's bucket count.
    #[test]
    fn inner_hashbrown_clone_after_a_large_free() {
        let n = 20_000u64;
        let m: HashMap<u64, u64> = (0..n).map(|i| (i, i + 1)).collect();
        for _ in 0..4 {
            Heap::trim();
            drop(HashMap::<u64, u64>::with_capacity(200_000));
            let c: hashbrown::HashMap<u64, u64, _, Heap> = m.0.clone();
            assert_eq!(c.capacity(), m.capacity(), "bucket count");
            assert_eq!(c.len(), m.len());
            assert!((0..n).all(|i| c.get(&i) == Some(&(i + 1))));
        }
    }
}
