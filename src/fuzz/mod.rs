//! Fuzzing: the input format (bytes → program + schedule) and the stand-alone search (`hunt`).
