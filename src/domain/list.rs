//! A small inline list: decisions are built without touching the heap.

/// Up to `N` values stored inline. Capacities are chosen above what any rule
/// produces, so a push onto a full list is a bug: a debug assertion catches it
/// (every test runs with them), and a release build keeps the first `N`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct List<T: Copy, const N: usize> {
    items: [Option<T>; N],
    len: usize,
}

impl<T: Copy, const N: usize> Default for List<T, N> {
    fn default() -> Self {
        List {
            items: [None; N],
            len: 0,
        }
    }
}

impl<T: Copy, const N: usize> List<T, N> {
    pub fn new() -> Self {
        Self::default()
    }

    /// The most values the list holds.
    pub const CAPACITY: usize = N;

    /// Appends. Pushing onto a full list is a bug (see the type's comment).
    pub fn push(&mut self, value: T) {
        debug_assert!(self.len < N, "push onto a full List of {N}");
        if let Some(slot) = self.items.get_mut(self.len) {
            *slot = Some(value);
            self.len += 1;
        }
    }

    /// Inserts at the front, shifting the rest. Onto a full list it is a bug
    /// like [`List::push`]; a release build then drops the last value.
    pub fn push_front(&mut self, value: T) {
        debug_assert!(self.len < N, "push_front onto a full List of {N}");
        let mut carry = Some(value);
        for slot in self.items.iter_mut().take(self.len + 1) {
            carry = std::mem::replace(slot, carry);
        }
        self.len = (self.len + 1).min(N);
    }

    /// Replaces the last value (no-op when empty).
    pub fn replace_last(&mut self, value: T) {
        if let Some(slot) = self.len.checked_sub(1).and_then(|i| self.items.get_mut(i)) {
            *slot = Some(value);
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn first(&self) -> Option<T> {
        self.items.first().copied().flatten()
    }

    pub fn last(&self) -> Option<T> {
        self.len
            .checked_sub(1)
            .and_then(|i| self.items.get(i).copied().flatten())
    }

    pub fn iter(&self) -> impl Iterator<Item = T> + '_ {
        self.items.iter().take(self.len).filter_map(|v| *v)
    }
}

impl<T: Copy, const N: usize> FromIterator<T> for List<T, N> {
    fn from_iter<I: IntoIterator<Item = T>>(iter: I) -> Self {
        let mut list = List::new();
        for v in iter {
            list.push(v);
        }
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_and_front() {
        let mut l: List<u8, 3> = List::new();
        assert!(l.is_empty());
        l.push(1);
        l.push(2);
        l.push_front(0);
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![0, 1, 2]);
        assert_eq!((l.first(), l.last(), l.len()), (Some(0), Some(2), 3));
        assert_eq!(List::<u8, 3>::CAPACITY, 3);
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "push onto a full List of 2"))]
    fn push_onto_a_full_list_is_caught() {
        let mut l: List<u8, 2> = [1, 2].into_iter().collect();
        l.push(3);
        // Release build: the value is dropped.
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    #[cfg_attr(debug_assertions, should_panic(expected = "push_front onto a full List of 2"))]
    fn push_front_onto_a_full_list_is_caught() {
        let mut l: List<u8, 2> = [1, 2].into_iter().collect();
        l.push_front(0);
        // Release build: the last value drops.
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![0, 1]);
    }
}
