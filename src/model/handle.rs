//! Typed handles: what a plain `usize` meant, named (a swap device's type, a folio, an mm), and
//! the kernel arrays they index. A handle prints as its number, as the kernel's own indices do
//! (`swap_info[0]`, `mm1 PTL`, `folio2`).

use std::fmt;
use std::marker::PhantomData;

/// A typed index into a [`Table`].
pub trait Handle: Copy {
    /// The handle of entry `i`.
    fn from_index(i: usize) -> Self;
    /// The entry's position.
    fn index(self) -> usize;
}

macro_rules! handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
        pub struct $name(pub usize);

        impl Handle for $name {
            fn from_index(i: usize) -> Self {
                $name(i)
            }
            fn index(self) -> usize {
                self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }
    };
}

handle!(
    /// A swap device's `type`: `swp_type(entry)`, its index in `swap_info[]` and
    /// `swapper_spaces[]`.
    SwapType
);
handle!(
    /// A folio (`struct folio *`), by allocation order; folios are never freed in the model.
    FolioId
);
handle!(
    /// A process's `struct mm_struct *`, by creation order.
    MmId
);
handle!(
    /// A tmpfs file's `struct inode *` (with its `shmem_inode_info`).
    InodeId
);

/// The handles of a [`Table`], in order ([`Table::ids`]).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Ids<I> {
    range: std::ops::Range<usize>,
    _index: PhantomData<I>,
}

impl<I: Handle> Iterator for Ids<I> {
    type Item = I;
    fn next(&mut self) -> Option<I> {
        self.range.next().map(I::from_index)
    }
}

/// A kernel array indexed by a handle `I`: `swap_info[]`, the folios, the mms. It reads as a
/// slice (`iter()`, `len()`); indexing and look-ups take the handle.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Table<I, T> {
    items: Vec<T>,
    _index: PhantomData<I>,
}

impl<I: Handle, T> Table<I, T> {
    /// An empty table.
    pub fn new() -> Self {
        Table {
            items: Vec::new(),
            _index: PhantomData,
        }
    }

    /// Appends `item` and returns its handle.
    pub fn push(&mut self, item: T) -> I {
        self.items.push(item);
        I::from_index(self.items.len() - 1)
    }

    /// The entry of `i`, if it exists.
    pub fn get(&self, i: I) -> Option<&T> {
        self.items.get(i.index())
    }

    /// The entry of `i`, mutably, if it exists.
    pub fn get_mut(&mut self, i: I) -> Option<&mut T> {
        self.items.get_mut(i.index())
    }

    /// Every handle, in order (a value a step can return: it owns no borrow and hashes as the
    /// range it stands for).
    pub fn ids(&self) -> Ids<I> {
        Ids {
            range: 0..self.items.len(),
            _index: PhantomData,
        }
    }

    /// Every entry with its handle, in order.
    pub fn enumerate(&self) -> impl Iterator<Item = (I, &T)> {
        self.items
            .iter()
            .enumerate()
            .map(|(i, t)| (I::from_index(i), t))
    }

    /// The first handle whose entry satisfies `pred`.
    pub fn position(&self, pred: impl FnMut(&T) -> bool) -> Option<I> {
        self.items.iter().position(pred).map(I::from_index)
    }

    /// The handle the next [`Table::push`] returns.
    pub fn next_id(&self) -> I {
        I::from_index(self.items.len())
    }
}

impl<I: Handle, T> Default for Table<I, T> {
    fn default() -> Self {
        Table::new()
    }
}

impl<I: Handle, T: Clone> Table<I, T> {
    /// `n` copies of `item`.
    pub fn filled(item: T, n: usize) -> Self {
        Table {
            items: vec![item; n],
            _index: PhantomData,
        }
    }
}

impl<I, T: fmt::Debug> fmt::Debug for Table<I, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.items.fmt(f)
    }
}

impl<I, T> std::ops::Deref for Table<I, T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        &self.items
    }
}

impl<I: Handle, T> std::ops::Index<I> for Table<I, T> {
    type Output = T;
    fn index(&self, i: I) -> &T {
        &self.items[i.index()]
    }
}

impl<I: Handle, T> std::ops::IndexMut<I> for Table<I, T> {
    fn index_mut(&mut self, i: I) -> &mut T {
        &mut self.items[i.index()]
    }
}

impl<I, T> std::ops::DerefMut for Table<I, T> {
    fn deref_mut(&mut self) -> &mut [T] {
        &mut self.items
    }
}
