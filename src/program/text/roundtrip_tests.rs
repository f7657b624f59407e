use super::*;
use crate::program::bytes::decode;
use crate::program::ops::op_names;
use crate::program::seeds;

#[test]
fn seeds_roundtrip_exactly() {
    for (name, p) in seeds::all() {
        assert_eq!(normalize(&p), p, "{name} is in canonical form");
        for schedule in [None, Some(&[][..]), Some(&[0xff, 0, 0x13, 0x40][..])] {
            for n in [None, Some(name)] {
                let text = print(&p, schedule, n);
                let s = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
                assert_eq!(s.program, p, "{text}");
                assert_eq!(s.schedule.as_deref(), schedule, "{text}");
                assert_eq!(s.name.as_deref(), n);
            }
        }
    }
}

#[test]
fn random_programs_roundtrip() {
    let mut st = 0x9e37_79b9_7f4a_7c15u64;
    let mut changed = 0;
    for _ in 0..5_000 {
        let d = decode(&crate::program::bytes::random_input(&mut st));
        let text = print(&d.program, Some(&d.schedule), Some("random"));
        let s = parse(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let canonical = normalize(&d.program);
        assert_eq!(s.program, canonical, "{text}");
        assert_eq!(s.schedule.as_deref(), Some(&d.schedule[..]));
        // The canonical form is a fixed point: it roundtrips exactly, to the same text.
        assert_eq!(normalize(&canonical), canonical);
        assert_eq!(print(&canonical, Some(&d.schedule), Some("random")), text);
        changed += usize::from(canonical != d.program);
    }
    assert!(
        changed > 1000,
        "the test exercises normalization ({changed})"
    );
}

#[test]
fn whole_scenarios_roundtrip_with_their_description() {
    for (name, _, text) in builtin() {
        let s = parse(&text).unwrap();
        assert!(s.description.len() > 3, "{name} explains itself");
        assert_eq!(parse(&print_scenario(&s)).unwrap(), s, "{name}");
    }
    let odd = Scenario {
        name: Some("two words#".into()),
        description: vec!["".into(), "  indented".into(), "x".into()],
        program: seeds::zap_4k(),
        schedule: Some(vec![0xff, 0]),
        steps: None,
        expect: Some("use-after-free:f:si->swap_map:op/swapoff".into()),
    };
    let back = parse(&print_scenario(&odd)).unwrap();
    assert_eq!(back.name.as_deref(), Some("two-words-"));
    assert_eq!(back.description, odd.description);
    assert_eq!((back.schedule, back.expect), (odd.schedule, odd.expect));
    // A schedule stated in steps, one a line or `;`-separated.
    let text = "cpu0: shmem-truncate file=0\ncpu1: swapoff dev=0\nschedule:\n  \
                cpu0 until after __swap_entry_free\n  cpu1; cpu0\n";
    let s = parse(text).unwrap();
    let steps: Vec<String> = s.steps.iter().flatten().map(ToString::to_string).collect();
    assert_eq!(
        steps,
        ["cpu0 until after __swap_entry_free", "cpu1", "cpu0"]
    );
    assert_eq!(s.schedule, None);
    assert_eq!(parse(&print_scenario(&s)).unwrap(), s);
    for bad in [
        "cpu0: exit mm=0\nschedule: ff cpu0",
        "cpu0: exit mm=0\nschedule: cpu0\n ff",
        "cpu0: exit mm=0\nschedule: cpu0 until before x",
        "cpu0: exit mm=0\nschedule: cpu7",
    ] {
        assert!(parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn builtins_are_the_seeds_then_the_catalogue() {
    let b = builtin();
    let names: Vec<&str> = b.iter().map(|(n, _, _)| *n).collect();
    let seed_names: Vec<&str> = seeds::all().iter().map(|(n, _)| *n).collect();
    assert_eq!(names[..seed_names.len()], seed_names);
    // After the seeds, the races of docs/catalogue.md: each is a reproducer of its race with
    // the fix reverted, with the bug it gives and the commit diagram's schedule.
    for (name, summary, text) in &b[seed_names.len()..] {
        let s = load(name).unwrap();
        assert_eq!(s.name.as_deref(), Some(*name));
        assert!(s.expect.is_some() && s.steps.is_some(), "{name}");
        assert_eq!(parse(text).unwrap(), s);
        assert_eq!(s.description[0], *summary);
        // The summary points to its race's section of the catalogue.
        let section = format!("{}#race-", "docs/catalogue.md");
        assert!(summary.contains(&section), "{summary}");
    }
    for ((name, summary, text), (_, seed)) in b.iter().zip(seeds::all()) {
        let s = load(name).unwrap();
        assert_eq!(s.program, seed, "{name}");
        assert_eq!(s.name.as_deref(), Some(*name));
        assert_eq!(s.schedule, None);
        assert_eq!(parse(text).unwrap(), s);
        assert!(summary.len() > 20 && !summary.starts_with('#'), "{summary}");
        assert_eq!(s.description[0], *summary);
        let verdicts = s.description.join("\n");
        for w in ["buggy:", "fixed:", "RCU readers", "docs/model.md#"] {
            assert!(verdicts.contains(w), "{name} lacks {w}");
        }
    }
    assert_eq!(
        load("shmem-truncate").unwrap().program,
        seeds::shmem_truncate()
    );
    assert_eq!(load("thp-exit").unwrap().program, seeds::thp_exit());
    assert_eq!(load("zap-4k").unwrap().program, seeds::zap_4k());
}

#[test]
fn load_reads_files_and_explains_failures() {
    let dir = std::env::temp_dir().join(format!("swapfuzz-scenario-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("my-race.scn");
    std::fs::write(&good, "cpu0:\n  swapon\ncpu1:\n  swapoff dev=0\n").unwrap();
    let s = load(good.to_str().unwrap()).unwrap();
    assert_eq!(s.name.as_deref(), Some("my-race"), "named after the file");
    assert_eq!(s.program.cpus.len(), 2);

    let bad = dir.join("bad.scn");
    std::fs::write(&bad, "cpu0:\n  swapon\n  swapof dev=0\n").unwrap();
    let e = load(bad.to_str().unwrap()).unwrap_err();
    assert_eq!(
        e,
        format!(
            "{}: line 3, column 3: unknown operation \"swapof\" (did you mean \"swapoff\"?); expected one of: swapon, swapoff, mmap, fork, swapout, reclaim, swapin, zap, exit, shmem-write, shmem-writepage, shmem-truncate, mincore, shmem-read, willneed, swapon-sync, read, write",
            bad.display()
        )
    );

    let e = load("no-such-scenario").unwrap_err();
    assert!(e.contains("shmem-truncate, thp-exit, zap-4k"), "{e}");
    let e = load(dir.join("missing.scn").to_str().unwrap()).unwrap_err();
    assert!(e.contains("neither a file nor a built-in"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_format_documentation_covers_every_operation() {
    let readme = include_str!("../../../scenarios/README.md");
    for name in op_names() {
        assert!(readme.contains(&format!("`{name}")), "README lacks {name}");
    }
    for key in [
        "dev=", "pages=", "huge", "mm=", "pte=", "offset=", "write", "file=", "index=",
    ] {
        assert!(readme.contains(key), "README lacks {key}");
    }
    for (name, _, _) in builtin() {
        assert!(readme.contains(name), "README lacks {name}");
    }
}
