use super::*;
use crate::program::bytes::encode;
use crate::program::seeds;

/// A fresh directory under the system's temporary directory.
fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("swapfuzz-input-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

const RACE: &str = "setup:\n  swapon\ncpu0:\n  shmem-truncate file=0\ncpu1:\n  swapof dev=0\n";

#[test]
fn text_is_a_scenario_and_a_typo_is_an_error_with_line_and_column() {
    let d = tmp("typo");
    for name in ["race.txt", "race", "crash-notes"] {
        let f = d.join(name);
        std::fs::write(&f, RACE).unwrap();
        let e = load_file(&f, As::Auto).unwrap_err();
        assert!(
            e.contains("line 6, column 3") && e.contains("swapof"),
            "{e}"
        );
        assert!(e.contains("--as bytes"), "{e}");
    }
    let f = d.join("race.scn");
    std::fs::write(&f, RACE.replace("swapof", "swapoff")).unwrap();
    let i = load_file(&f, As::Auto).unwrap();
    assert_eq!(i.kind, Kind::Scenario);
    assert_eq!(i.scenario.unwrap().name.as_deref(), Some("race"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn every_encoded_reproducer_is_bytes_whatever_its_name() {
    let d = tmp("bytes");
    for (name, p) in seeds::all() {
        let data = encode(&p, &[0xff, 0x00, 0x41]);
        assert!(!is_text(&data), "{name}");
        let f = d.join(name);
        std::fs::write(&f, &data).unwrap();
        let i = load_file(&f, As::Auto).unwrap();
        assert_eq!(i.kind, Kind::Bytes);
        assert_eq!((i.program, i.schedule), (p, vec![0xff, 0x00, 0x41]));
    }
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn the_committed_corpus_is_bytes_but_for_the_scenarios() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut n = 0;
    // corpus/seeds/, corpus/crashes/ and the catalogue's corpus/crashes/revert-ID/.
    let mut files = Vec::new();
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .unwrap()
        .map(|d| d.unwrap().path())
        .collect();
    while let Some(dir) = dirs.pop() {
        for f in std::fs::read_dir(dir).unwrap() {
            let f = f.unwrap().path();
            if f.is_dir() {
                dirs.push(f);
            } else {
                files.push(f);
            }
        }
    }
    files.sort();
    for f in files {
        let i = load_file(&f, As::Auto).unwrap();
        if f.extension().is_some_and(|x| x == "scn") {
            // corpus/crashes/NAME.scn: the reproducer with its expected signature.
            assert_eq!(i.kind, Kind::Scenario, "{}", f.display());
            continue;
        }
        assert_eq!(i.kind, Kind::Bytes, "{}", f.display());
        assert_eq!(i.program, decode(&std::fs::read(&f).unwrap()).program);
        n += 1;
    }
    assert!(n >= 3);
}

#[test]
fn printable_fuzz_inputs_named_by_the_tools_are_bytes_and_as_bytes_forces_it() {
    let d = tmp("printable");
    let data = b"AAAA swap ~~~ zz";
    assert!(is_text(data));
    for name in [
        "crash-0123456789abcdef",
        "timeout-da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "clusterfuzz-testcase-minimized-buggy-5712",
        "x.bin",
    ] {
        let f = d.join(name);
        std::fs::write(&f, data).unwrap();
        assert_eq!(load_file(&f, As::Auto).unwrap().kind, Kind::Bytes, "{name}");
    }
    let f = d.join("input");
    std::fs::write(&f, data).unwrap();
    assert!(load_file(&f, As::Auto).unwrap_err().contains("--as bytes"));
    let i = load_file(&f, As::Bytes).unwrap();
    assert_eq!(i.program, decode(data).program);
    // A valid scenario under a tool's name is still a scenario ...
    let f = d.join("crash-00ff");
    std::fs::write(&f, RACE.replace("swapof", "swapoff")).unwrap();
    assert_eq!(load_file(&f, As::Auto).unwrap().kind, Kind::Scenario);
    // ... and --as scenario makes any name a scenario.
    let f = d.join("y.bin");
    std::fs::write(&f, RACE).unwrap();
    assert!(load_file(&f, As::Scenario).unwrap_err().contains("line 6"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn names_the_tools_give() {
    for n in [
        "crash-0bbac2cc",
        "leak-ab",
        "oom-00",
        "slow-unit-12ef",
        "error-0000000000000001",
    ] {
        assert!(is_raw_input_name(n), "{n}");
    }
    for n in [
        "crash-",
        "crash-notes",
        "race.txt",
        "README",
        "crash-12.txt",
    ] {
        assert!(!is_raw_input_name(n), "{n}");
    }
}

#[test]
fn a_byte_order_mark_and_non_utf8_text() {
    let d = tmp("bom");
    let f = d.join("race");
    let mut data = b"\xef\xbb\xbf".to_vec();
    data.extend(RACE.replace("swapof", "swapoff").bytes());
    std::fs::write(&f, &data).unwrap();
    assert_eq!(load_file(&f, As::Auto).unwrap().kind, Kind::Scenario);
    std::fs::write(&f, b"# M\xfcller's race\ncpu0: swapon\n").unwrap();
    let e = load_file(&f, As::Auto).unwrap_err();
    assert!(e.contains("line 1, column 4") && e.contains("UTF-8"), "{e}");
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn special_large_and_empty_files_are_refused() {
    let d = tmp("special");
    let e = read(&d).unwrap_err();
    assert!(e.contains("is a directory"), "{e}");
    let e = read(Path::new("/dev/zero")).unwrap_err();
    assert!(e.contains("character device"), "{e}");
    let fifo = d.join("fifo");
    let ok = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        let e = read(&fifo).unwrap_err();
        assert!(e.contains("a FIFO"), "{e}");
    }
    let big = d.join("big");
    std::fs::write(&big, vec![0u8; MAX_INPUT_BYTES as usize + 1]).unwrap();
    assert!(read(&big).unwrap_err().contains("larger than"));
    let empty = d.join("empty");
    std::fs::write(&empty, b"").unwrap();
    assert!(read(&empty).unwrap_err().contains("is empty"));
    std::fs::remove_dir_all(&d).unwrap();
}

#[test]
fn built_in_names_and_missing_files() {
    assert_eq!(
        load("shmem-truncate", As::Auto).unwrap().kind,
        Kind::BuiltIn
    );
    let e = load("no-such-scenario", As::Auto).unwrap_err();
    assert!(e.contains("shmem-truncate"), "{e}");
    let e = load("/nonexistent/crash", As::Auto).unwrap_err();
    assert!(e.contains("cannot read /nonexistent/crash"), "{e}");
    let e = load("shmem-truncate", As::Bytes).unwrap_err();
    assert!(e.contains("cannot read shmem-truncate"), "{e}");
}
