//! A small inline list: decisions are built without touching the heap.

/// Up to `N` values stored inline. Pushing past `N` keeps the first `N`
/// (capacities are chosen above what any rule produces; tests check it).
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

    /// Appends; returns false (and drops the value) when full.
    pub fn push(&mut self, value: T) -> bool {
        match self.items.get_mut(self.len) {
            Some(slot) => {
                *slot = Some(value);
                self.len += 1;
                true
            }
            None => false,
        }
    }

    /// Inserts at the front, shifting the rest (the last one drops when full).
    pub fn push_front(&mut self, value: T) {
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

    pub fn clear(&mut self) {
        *self = Self::default();
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
        assert!(l.push(1));
        assert!(l.push(2));
        l.push_front(0);
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![0, 1, 2]);
        assert!(!l.push(3));
        l.push_front(9);
        assert_eq!(l.iter().collect::<Vec<_>>(), vec![9, 0, 1]);
        assert_eq!((l.first(), l.last(), l.len()), (Some(9), Some(1), 3));
    }
}
