//! Guest memory: `pitstop_alloc` for the host's input, and (feature `bump`, on wasm32) a
//! bump global allocator. Every call runs on a fresh instance, so nothing needs freeing:
//! allocation is a pointer bump from `__heap_base`, and the whole heap disappears with the
//! instance. Link with an initial memory that fits a call (plugins/.cargo/config.toml:
//! 1 MiB) so the memory is not grown.

/// The block the host writes the input into.
pub fn guest_alloc(size: i32) -> i32 {
    let size = size.max(1) as usize;
    let block = vec![0u8; size].into_boxed_slice();
    Box::into_raw(block) as *mut u8 as usize as i32
}

#[cfg(all(target_arch = "wasm32", feature = "bump"))]
mod bump {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::Cell;

    const PAGE: usize = 65_536;

    struct Bump {
        next: Cell<usize>,
        end: Cell<usize>,
    }

    // SAFETY: a plugin instance is single-threaded (no threads, no shared memory).
    unsafe impl Sync for Bump {}

    impl Bump {
        fn reserve(&self, size: usize, align: usize) -> *mut u8 {
            if self.end.get() == 0 {
                // Start in the memory the module was given (linked with an initial memory
                // large enough for a typical call), so most calls never grow it: growing
                // costs the host an mprotect now and another when the slot is reset.
                unsafe extern "C" {
                    static __heap_base: u8;
                }
                // Only the symbol's address is taken; wasm-ld defines it.
                let base = core::ptr::addr_of!(__heap_base) as usize;
                self.next.set(base);
                self.end.set(core::arch::wasm32::memory_size(0) * PAGE);
            }
            let start = (self.next.get() + align - 1) & !(align - 1);
            let Some(stop) = start.checked_add(size) else {
                return core::ptr::null_mut();
            };
            if stop > self.end.get() {
                let pages = (stop - self.end.get()).div_ceil(PAGE);
                if core::arch::wasm32::memory_grow(0, pages) == usize::MAX {
                    return core::ptr::null_mut();
                }
                self.end.set(self.end.get() + pages * PAGE);
            }
            self.next.set(stop);
            start as *mut u8
        }
    }

    unsafe impl GlobalAlloc for Bump {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            self.reserve(layout.size(), layout.align())
        }

        unsafe fn dealloc(&self, _ptr: *mut u8, _layout: Layout) {}

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            // The last block grows in place.
            if ptr as usize + layout.size() == self.next.get() && new_size >= layout.size() {
                let extra = new_size - layout.size();
                if self.reserve(extra, 1).is_null() {
                    return core::ptr::null_mut();
                }
                return ptr;
            }
            let new = self.reserve(new_size, layout.align());
            if !new.is_null() {
                // SAFETY: both blocks are valid for the smaller size and do not overlap.
                unsafe {
                    core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                }
            }
            new
        }
    }

    #[global_allocator]
    static ALLOCATOR: Bump = Bump {
        next: Cell::new(0),
        end: Cell::new(0),
    };
}
