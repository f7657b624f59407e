use super::*;
use crate::program::MAX_OPS;
use crate::program::Op;

/// The error of `text`, which must not parse.
fn err(text: &str) -> ScenarioError {
    match parse(text) {
        Ok(s) => panic!("parsed:\n{text}\nas {s:?}"),
        Err(e) => e,
    }
}

/// `text` fails on line `line` with a message containing each of `needles`.
fn fails(text: &str, line: usize, needles: &[&str]) {
    let e = err(text);
    assert_eq!(e.line, line, "{text}\n→ {e}");
    for n in needles {
        assert!(e.message.contains(n), "{text}\n→ {e}\nlacks {n:?}");
    }
}

/// The operation `op`, alone on cpu0, fails with a message containing each of `needles`.
fn op_fails(op: &str, needles: &[&str]) {
    fails(&format!("cpu0:\n  {op}\n"), 2, needles);
}

const HEAD: &str = "# a test\nsetup:\n  swapon\n";

#[test]
fn the_documented_form_parses() {
    let s = parse(
        "# Title line\n#\n# more words\n\n# not description\nname: my-race\n\nsetup:\n  swapon  \
         # device 0\n\tmmap pages=2\n  mmap huge\ncpu0:\n  swapin mm=1 pte=3 write\n  \
         reclaim dev=1 offset=7\ncpu1: zap mm=0 pte=1; exit mm=0\n\n  fork mm=5\n\
         schedule: ff 00\n  0a0B\n",
    )
    .unwrap();
    assert_eq!(s.name.as_deref(), Some("my-race"));
    assert_eq!(s.description, ["Title line", "", "more words"]);
    assert_eq!(
        s.program.setup,
        [
            Op::Swapon,
            Op::Mmap {
                pages: 1,
                huge: false
            },
            Op::Mmap {
                pages: 0,
                huge: true
            }
        ]
    );
    assert_eq!(
        s.program.cpus,
        [
            vec![
                Op::SwapIn {
                    mm: 1,
                    pte: 3,
                    write: true
                },
                Op::Reclaim { dev: 1, offset: 7 }
            ],
            vec![
                Op::Zap { mm: 0, pte: 1 },
                Op::Exit { mm: 0 },
                Op::Fork { mm: 5 }
            ],
        ]
    );
    assert_eq!(s.schedule, Some(vec![0xff, 0, 0x0a, 0x0b]));
}

#[test]
fn optional_parts_may_be_absent() {
    let s = parse("cpu0:\n").unwrap();
    assert_eq!(
        s,
        Scenario {
            program: Program {
                setup: vec![],
                cpus: vec![vec![]]
            },
            ..Default::default()
        }
    );
    let s = parse("setup:\r\n  swapon\r\ncpu0:\r\n  swapoff dev=1\r\nschedule:\r\n").unwrap();
    assert_eq!(s.program.cpus, [vec![Op::Swapoff { dev: 1 }]]);
    assert_eq!(s.schedule, Some(vec![]));
}

#[test]
fn unknown_operation() {
    let e = err(&format!("{HEAD}cpu0:\n  swapof dev=0\n"));
    assert_eq!(e.line, 5);
    assert!(e.to_string().starts_with(
        "line 5, column 3: unknown operation \"swapof\" (did you mean \"swapoff\"?); expected one of: \
         swapon, swapoff, mmap,"
    ));
    op_fails("frobnicate", &["shmem-truncate", "expected one of"]);
    op_fails("SWAPON", &["unknown operation \"SWAPON\""]);
}

#[test]
fn missing_arguments() {
    op_fails("swapoff", &["missing argument dev=0..=1", "swap device"]);
    op_fails("swapout mm=0", &["missing argument pte=0..=255"]);
    op_fails("exit", &["exit: missing argument mm=", "live"]);
    fails(
        "setup:\n  mmap\ncpu0:\n",
        2,
        &["mmap: missing argument", "huge"],
    );
    op_fails("swapoff dev", &["\"dev\" needs a value: dev=0..=1"]);
}

#[test]
fn extra_and_unknown_arguments() {
    op_fails("swapon dev=0", &["swapon takes no arguments"]);
    op_fails("swapoff 0", &["unexpected argument \"0\"", "named", "dev="]);
    op_fails("swapoff dev=0 pte=1", &["unexpected argument \"pte=1\""]);
    op_fails("exit m=0", &["did you mean \"mm\"?"]);
    op_fails("zap mm=0 pte=1 mm=2", &["mm given twice"]);
    op_fails("swapin mm=0 pte=0 write=1", &["\"write\" is a flag"]);
    op_fails("mmap pages=1 huge", &["not both"]);
}

#[test]
fn invalid_and_out_of_range_numbers() {
    op_fails("swapoff dev=x", &["dev=x is not a number"]);
    op_fails("swapoff dev=-1", &["not a number"]);
    op_fails("swapoff dev=", &["not a number"]);
    op_fails(
        "swapoff dev=2",
        &["dev=2 is out of range; expected dev=0..=1"],
    );
    op_fails("shmem-truncate file=2", &["file=0..=1"]);
    op_fails("shmem-write file=0 index=4", &["index=0..=3"]);
    op_fails("mmap pages=0", &["pages=1..=4"]);
    op_fails("mmap pages=5", &["pages=1..=4"]);
    op_fails("exit mm=256", &["mm=0..=255"]);
    op_fails("zap mm=0 pte=99999999999999999999999", &["out of range"]);
    assert!(parse("cpu0:\n  exit mm=255\n  zap mm=007 pte=0\n").is_ok());
}

#[test]
fn sections_out_of_order() {
    fails("cpu1:\n", 1, &["expected cpu0:, found cpu1:"]);
    fails("cpu0:\ncpu2:\n", 2, &["expected cpu1:, found cpu2:"]);
    fails("cpu0:\ncpu0:\n", 2, &["expected cpu1:, found cpu0:"]);
    fails("cpu0:\nsetup:\n", 2, &["setup: must come before cpu0:"]);
    fails("setup:\nsetup:\ncpu0:\n", 2, &["a second setup: section"]);
    fails(
        "setup:\nname: x\ncpu0:\n",
        2,
        &["name: must come before setup:"],
    );
    fails(
        "cpu0:\nschedule:\ncpu1:\n",
        3,
        &["cpu1: must come before schedule:"],
    );
    fails(
        "cpu0:\nschedule: 00\nschedule: 01\n",
        3,
        &["a second schedule:"],
    );
    fails(
        "cpu0:\n  swapon\nfoo:\n",
        3,
        &["unknown section \"foo:\"", "cpu0: to cpu3:"],
    );
    op_fails("swapoff dev:0", &["key=value"]);
    fails("CPU0:\n", 1, &["unknown section"]);
}

#[test]
fn too_many_cpus_or_operations() {
    fails(
        "cpu0:\ncpu1:\ncpu2:\ncpu3:\ncpu4:\n",
        5,
        &["at most 4 CPUs"],
    );
    fails(
        "cpu0:\ncpu9999999999999999999999:\n",
        2,
        &["at most 4 CPUs"],
    );
    let many = |header: &str| {
        let mut t = format!("{header}\n");
        for _ in 0..=MAX_OPS {
            t.push_str("  swapon\n");
        }
        t
    };
    fails(
        &many("cpu0:"),
        1 + MAX_OPS + 1,
        &["too many operations in cpu0:", "12"],
    );
    fails(
        &many("setup:"),
        1 + MAX_OPS + 1,
        &["too many operations in setup:"],
    );
    let semis = format!("cpu0: {}", ["swapon"; MAX_OPS + 1].join("; "));
    fails(&semis, 1, &["too many operations in cpu0:"]);
    assert!(parse(&format!("cpu0: {}", ["swapon"; MAX_OPS].join("; "))).is_ok());
}

#[test]
fn no_cpu_section() {
    for text in ["", "# only a comment\n", "setup:\n  swapon\n", "name: x\n"] {
        let e = err(text);
        assert_eq!(e.line, 0, "{text}");
        assert!(e.to_string().starts_with("no cpu sections"), "{e}");
        assert!(e.message.contains("at least one CPU"), "{e}");
    }
}

#[test]
fn bad_schedule_and_names_and_stray_lines() {
    fails(
        "cpu0:\nschedule:\n  ff\n  fg\n",
        4,
        &["\"fg\": not hex", "ff 00 3a"],
    );
    fails("cpu0:\nschedule: fff\n", 2, &["odd number of hex digits"]);
    fails("cpu0:\nschedule: 0xff\n", 2, &["not hex"]);
    fails(
        "swapon\ncpu0:\n",
        1,
        &["outside any section", "setup: or cpu0:"],
    );
    fails("name: x\nswapon\ncpu0:\n", 2, &["outside any section"]);
    fails("name: two words\ncpu0:\n", 1, &["one word"]);
    fails("name:\ncpu0:\n", 1, &["one word"]);
    fails("name: a,b\ncpu0:\n", 1, &["one word"]);
}

/// xorshift64*.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    state.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

#[test]
fn garbage_gives_an_error_not_a_panic() {
    let mut st = 0x1234_5678_9abc_def1u64;
    let lines = |t: &str| t.lines().count();
    for _ in 0..20_000 {
        let len = (next(&mut st) % 200) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| next(&mut st) as u8).collect();
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = parse(&text) {
            assert!(e.line <= lines(&text));
        }
    }
    // Mutations of the real files: near-misses exercise every error path.
    const ALPHABET: &[u8] = b"cpu0123459:=#; \n\tmswaponfexitzhlrdgtk-x";
    for (_, _, text) in builtin() {
        for _ in 0..5_000 {
            let mut b = text.clone().into_bytes();
            for _ in 0..1 + next(&mut st) % 4 {
                let at = (next(&mut st) as usize) % (b.len() + 1);
                let c = ALPHABET[(next(&mut st) as usize) % ALPHABET.len()];
                match next(&mut st) % 3 {
                    0 if at < b.len() => b[at] = c,
                    1 if at < b.len() => {
                        b.remove(at);
                    }
                    _ => b.insert(at, c),
                }
            }
            let t = String::from_utf8_lossy(&b);
            match parse(&t) {
                Ok(s) => assert!(!s.program.cpus.is_empty()),
                Err(e) => assert!(e.line <= lines(&t) && !e.message.is_empty()),
            }
        }
    }
}

#[test]
fn errors_name_the_column_of_the_word() {
    let e = err("cpu0:\n  swapof dev=0\n");
    assert_eq!((e.line, e.column), (2, 3), "{e}");
    let e = err("cpu0: swapon; swapof dev=0\n");
    assert_eq!((e.line, e.column), (1, 15), "{e}");
    let e = err("cpu0:\nschedule: ff\tzz\n");
    assert_eq!((e.line, e.column), (2, 14), "{e}");
    // Columns count characters, not bytes.
    let e = err("cpu0:\n  swapon; é\n");
    assert_eq!((e.line, e.column), (2, 11), "{e}");
    let e = err("  frob:\ncpu0:\n");
    assert_eq!((e.line, e.column), (1, 3), "{e}");
    assert!(e.to_string().starts_with("line 1, column 3: "), "{e}");
}

#[test]
fn a_byte_order_mark_is_ignored() {
    let s = parse("\u{feff}name: x\ncpu0:\n  swapon\n").unwrap();
    assert_eq!(s.name.as_deref(), Some("x"));
    let e = err("\u{feff}frob:\ncpu0:\n");
    assert!(!e.to_string().contains('\u{feff}'), "{e}");
    assert_eq!(e.column, 1, "{e}");
}

#[test]
fn a_huge_cpu_index_is_printed_as_written() {
    let e = err("cpu99999999999999999999999:\n  swapon\n");
    assert!(e.message.contains("cpu99999999999999999999999:"), "{e}");
    assert!(!e.message.contains("18446744073709551615"), "{e}");
    fails("cpu4:\n", 1, &["cpu4:", "at most 4 CPUs"]);
}
