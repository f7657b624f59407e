//! KASAN-tracked allocations (`vzalloc`/`kvcalloc` and `vfree`/`kvfree`).
//!
//! Models the generic KASAN shadow (mm/kasan/, v6.8) at object granularity: every access names
//! its allocation, and an access to a freed object, through a NULL pointer, or past the end
//! is a [`BadAccess`]. Freed objects are never reused, so a stale pointer stays detectable
//! (KASAN's quarantine, made infinite).

use super::Cpu;

/// Where an allocation or a free happened: the CPU (None = set-up before the CPUs start) and its
/// model call stack, outermost first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The CPU, or None for the set-up.
    pub cpu: Option<Cpu>,
    /// Model call stack at the time, outermost first.
    pub stack: Vec<&'static str>,
    /// Scheduling step at the time.
    pub step: usize,
}

/// The state digest (`Shared::state_digest`) leaves out the step: only reports print it, and two
/// runs that freed an object at different steps on the same path are otherwise the same.
impl std::hash::Hash for Origin {
    fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
        self.cpu.hash(h);
        self.stack.hash(h);
    }
}

/// One tracked allocation.
#[derive(Debug, Clone, Hash)]
pub struct Allocation<T> {
    /// Kernel name of the object, e.g. `si->swap_map`.
    pub name: &'static str,
    /// Size in bytes, as the kernel would allocate it.
    pub size: usize,
    /// The payload; kept after the free so that stale readers see old contents, as in the kernel.
    pub data: T,
    /// Who allocated it.
    pub allocated_by: Origin,
    /// Who freed it, once freed.
    pub freed_by: Option<Origin>,
}

/// What went wrong with an access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BadKind {
    /// Through a NULL pointer.
    Null,
    /// To a freed object.
    UseAfterFree,
    /// Beyond the object.
    OutOfBounds,
}

/// A rejected access: the kind, the allocation (if not NULL) and the byte offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BadAccess {
    /// What went wrong.
    pub kind: BadKind,
    /// The allocation (index into the heap), None for a NULL access.
    pub alloc: Option<usize>,
    /// Byte offset of the access.
    pub offset: usize,
    /// Access size in bytes.
    pub size: usize,
    /// Write (true) or read.
    pub write: bool,
}

/// All tracked allocations of one execution, indexed by a never-reused pointer value.
#[derive(Debug, Clone, Hash)]
pub struct Heap<T> {
    objs: Vec<Allocation<T>>,
}

impl<T> Default for Heap<T> {
    fn default() -> Self {
        Heap { objs: Vec::new() }
    }
}

impl<T> Heap<T> {
    /// Allocates a new object and returns its pointer.
    pub fn alloc(&mut self, name: &'static str, size: usize, data: T, by: Origin) -> usize {
        self.objs.push(Allocation {
            name,
            size,
            data,
            allocated_by: by,
            freed_by: None,
        });
        self.objs.len() - 1
    }

    /// Frees `ptr`. A double free is reported as a use-after-free write at offset 0.
    pub fn free(&mut self, ptr: usize, by: Origin) -> Result<(), BadAccess> {
        let a = &mut self.objs[ptr];
        if a.freed_by.is_some() {
            return Err(BadAccess {
                kind: BadKind::UseAfterFree,
                alloc: Some(ptr),
                offset: 0,
                size: a.size,
                write: true,
            });
        }
        a.freed_by = Some(by);
        Ok(())
    }

    /// Checks an access of `size` bytes at byte `offset` through `ptr`.
    pub fn check(
        &self,
        ptr: Option<usize>,
        offset: usize,
        size: usize,
        write: bool,
    ) -> Result<(), BadAccess> {
        let bad = |kind, alloc| BadAccess {
            kind,
            alloc,
            offset,
            size,
            write,
        };
        let Some(p) = ptr else {
            return Err(bad(BadKind::Null, None));
        };
        let a = &self.objs[p];
        if a.freed_by.is_some() {
            return Err(bad(BadKind::UseAfterFree, Some(p)));
        }
        if offset + size > a.size {
            return Err(bad(BadKind::OutOfBounds, Some(p)));
        }
        Ok(())
    }

    /// How many allocations were made (pointers are `0..len()`).
    pub fn len(&self) -> usize {
        self.objs.len()
    }

    /// No allocation yet.
    pub fn is_empty(&self) -> bool {
        self.objs.is_empty()
    }

    /// The allocation behind `ptr` (live or freed).
    pub fn get(&self, ptr: usize) -> &Allocation<T> {
        &self.objs[ptr]
    }

    /// Mutable payload of `ptr` (callers check the access first).
    pub fn data_mut(&mut self, ptr: usize) -> &mut T {
        &mut self.objs[ptr].data
    }

    /// Whether `ptr` is still allocated.
    pub fn is_live(&self, ptr: usize) -> bool {
        self.objs[ptr].freed_by.is_none()
    }

    /// Pointers of all live allocations (leak check at the end of a run).
    pub fn live(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.objs.len()).filter(|&p| self.is_live(p))
    }

    /// Every allocation ever made, freed ones included, by pointer.
    pub fn iter(&self) -> impl Iterator<Item = &Allocation<T>> + '_ {
        self.objs.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn o() -> Origin {
        Origin {
            cpu: None,
            stack: vec!["swapon"],
            step: 0,
        }
    }

    #[test]
    fn detects_null_uaf_oob_and_double_free() {
        let mut h: Heap<Vec<u8>> = Heap::default();
        let p = h.alloc("si->swap_map", 8, vec![0; 8], o());
        assert!(h.check(Some(p), 7, 1, false).is_ok());
        assert_eq!(
            h.check(Some(p), 8, 1, false).unwrap_err().kind,
            BadKind::OutOfBounds
        );
        assert_eq!(h.check(None, 3, 1, true).unwrap_err().kind, BadKind::Null);
        h.free(p, o()).unwrap();
        let e = h.check(Some(p), 3, 1, false).unwrap_err();
        assert_eq!(
            (e.kind, e.alloc, e.offset),
            (BadKind::UseAfterFree, Some(p), 3)
        );
        assert!(h.free(p, o()).is_err());
        assert_eq!(h.live().count(), 0);
    }
}
