//! `fixed_no_rcu`: the fixed `free_swap_and_cache()`, spinlocks are not RCU readers.
#![no_main]

#[cfg(feature = "asan-fibers")]
#[unsafe(no_mangle)]
pub extern "C" fn __asan_default_options() -> *const std::ffi::c_char {
    c"detect_stack_use_after_return=0".as_ptr()
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    swapfuzz::fuzz::oracle::check(data, swapfuzz::model::Variant::Fixed, false);
});
