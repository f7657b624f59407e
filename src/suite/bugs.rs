//! The programs of the suite: classic concurrency bugs, each a shuttle test that panics (or
//! deadlocks) on the bad interleaving. Several follow the SCTBench / SV-COMP programs that PCT,
//! POS and RFF are measured on (`reorder_N_bad`, `twostage_N_bad`, `wronglock_bad`,
//! `lazy01`-like check-then-act, `account_bad`-like atomicity violations).

use std::sync::Arc;

use shuttle::sync::Condvar;
use shuttle::thread::JoinHandle;

use super::shared::{Lock, Var, work};
use crate::engine::{Access, access};

/// Spawns a thread that runs `f` between two spells of [`work`].
fn spawn(f: impl FnOnce() + Send + 'static) -> JoinHandle<()> {
    shuttle::thread::spawn(move || {
        work();
        f();
        work();
    })
}

fn join_all(handles: Vec<JoinHandle<()>>) {
    for h in handles {
        h.join().expect("a thread of the test panicked");
    }
}

/// Two threads increment a counter with a separate load and store.
pub fn lost_update() {
    let c = Arc::new(Var::new(0, 0));
    let hs = (0..2)
        .map(|_| {
            let c = Arc::clone(&c);
            spawn(move || {
                let v = c.load();
                c.store(v + 1);
            })
        })
        .collect();
    join_all(hs);
    assert_eq!(c.load(), 2, "lost update");
}

/// Lazy initialisation: three threads check a flag, then create the singleton and set it.
pub fn check_then_act() {
    let (init, created) = (Arc::new(Var::new(0, 0)), Arc::new(Var::new(1, 0)));
    let hs = (0..3)
        .map(|_| {
            let (init, created) = (Arc::clone(&init), Arc::clone(&created));
            spawn(move || {
                if init.load() == 0 {
                    created.fetch_add(1);
                    init.store(1);
                }
            })
        })
        .collect();
    join_all(hs);
    assert_eq!(created.load(), 1, "singleton created twice");
}

/// A bank account: two withdrawals check the balance and then debit it, each step atomic but
/// not the pair; a deposit runs beside them.
pub fn atomicity_violation() {
    let balance = Arc::new(Var::new(0, 100));
    let mut hs: Vec<_> = (0..2)
        .map(|_| {
            let b = Arc::clone(&balance);
            spawn(move || {
                if b.load() >= 80 {
                    b.fetch_add(-80);
                }
            })
        })
        .collect();
    let b = Arc::clone(&balance);
    hs.push(spawn(move || {
        b.fetch_add(10);
    }));
    join_all(hs);
    assert!(balance.load() >= 0, "overdrawn");
}

/// ABA on a lock-free stack of node indices (`top`, `next[i]`; -1 is empty): one thread pops
/// A and is preempted before its compare-and-swap; another pops A and B and pushes A back; the
/// first thread's CAS succeeds and installs B, which the second thread owns.
pub fn aba() {
    // Stack A(0) -> B(1) -> C(2).
    let top = Arc::new(Var::new(0, 0));
    let next: Arc<Vec<Var>> = Arc::new((0..3).map(|i| Var::new(10 + i, i as i64 + 1)).collect());
    next[2].store(-1);
    let owned_b = Arc::new(Var::new(20, 0));
    let pop = |top: &Var, next: &[Var]| loop {
        let t = top.load();
        if t < 0 {
            return t;
        }
        let n = next[t as usize].load();
        if top.cas(t, n) {
            return t;
        }
    };
    let (t1, n1) = (Arc::clone(&top), Arc::clone(&next));
    let a = spawn(move || {
        pop(&t1, &n1);
    });
    let (t2, n2, o2) = (Arc::clone(&top), Arc::clone(&next), Arc::clone(&owned_b));
    let b = spawn(move || {
        let x = pop(&t2, &n2);
        let y = pop(&t2, &n2);
        if y == 1 {
            o2.store(1);
        }
        // Push x back.
        if x >= 0 {
            loop {
                let t = t2.load();
                n2[x as usize].store(t);
                if t2.cas(t, x) {
                    break;
                }
            }
        }
    });
    join_all(vec![a, b]);
    let mut at = top.load();
    while at >= 0 {
        assert!(
            !(at == 1 && owned_b.load() == 1),
            "ABA: a popped node is on the stack"
        );
        at = next[at as usize].load();
    }
}

/// Two threads take two locks in opposite orders: a deadlock.
pub fn lock_order_inversion() {
    let (a, b) = (Arc::new(Lock::new(0)), Arc::new(Lock::new(1)));
    let (a1, b1) = (Arc::clone(&a), Arc::clone(&b));
    let t = spawn(move || {
        let _x = a1.lock();
        let _y = b1.lock();
    });
    work();
    {
        let _y = b.lock();
        let _x = a.lock();
    }
    t.join().expect("join");
}

/// A missed signal: the waiter checks the flag outside the lock, then waits; if the signaller
/// sets the flag and notifies in between, the waiter sleeps for ever.
pub fn missed_signal() {
    let flag = Arc::new(Var::new(0, 0));
    let pair = Arc::new((shuttle::sync::Mutex::new(()), Condvar::new()));
    let (f, p) = (Arc::clone(&flag), Arc::clone(&pair));
    let waiter = spawn(move || {
        if f.load() == 0 {
            let g = p.0.lock().expect("lock");
            access(1, Access::Write);
            let _g = p.1.wait(g).expect("wait");
        }
    });
    work();
    flag.store(1);
    {
        let _g = pair.0.lock().expect("lock");
        access(1, Access::Write);
        pair.1.notify_all();
    }
    waiter.join().expect("join");
}

/// Publication in the wrong order: the writer sets `ready` before it writes the data.
pub fn publication() {
    let (ready, data) = (Arc::new(Var::new(0, 0)), Arc::new(Var::new(1, 0)));
    let (r, d) = (Arc::clone(&ready), Arc::clone(&data));
    let w = spawn(move || {
        r.store(1);
        d.store(42);
    });
    work();
    if ready.load() == 1 {
        assert_eq!(data.load(), 42, "published before written");
    }
    w.join().expect("join");
}

/// Use after free: a reader checks a pointer, then uses it; the owner frees it in between.
pub fn use_after_free() {
    let (ptr, valid) = (Arc::new(Var::new(0, 1)), Arc::new(Var::new(1, 1)));
    let (p, v) = (Arc::clone(&ptr), Arc::clone(&valid));
    let reader = spawn(move || {
        if p.load() != 0 {
            assert_eq!(v.load(), 1, "use after free");
        }
    });
    let (p, v) = (Arc::clone(&ptr), Arc::clone(&valid));
    let owner = spawn(move || {
        let _unrelated = p.load();
        v.store(0);
        p.store(0);
    });
    join_all(vec![reader, owner]);
}

/// SCTBench's `reorder_N_bad`: `n - 1` setters write `a = 1` then `b = -1`; one checker
/// requires `(a, b)` to be `(0, 0)` or `(1, -1)`.
pub fn reorder(n: usize) {
    let (a, b) = (Arc::new(Var::new(0, 0)), Arc::new(Var::new(1, 0)));
    let mut hs: Vec<_> = (1..n)
        .map(|_| {
            let (a, b) = (Arc::clone(&a), Arc::clone(&b));
            spawn(move || {
                a.store(1);
                b.store(-1);
            })
        })
        .collect();
    let (ca, cb) = (Arc::clone(&a), Arc::clone(&b));
    hs.push(spawn(move || {
        let (x, y) = (ca.load(), cb.load());
        assert!((x == 0 && y == 0) || (x == 1 && y == -1), "reordered");
    }));
    join_all(hs);
}

/// SCTBench's `twostage_N_bad`: `n - 1` threads set `data1` under one lock and then
/// `data2 = data1 + 1` under another; a reader that sees `data1` set must see `data2` follow.
pub fn twostage(n: usize) {
    let (m1, m2) = (Arc::new(Lock::new(0)), Arc::new(Lock::new(1)));
    let (d1, d2) = (Arc::new(Var::new(2, 0)), Arc::new(Var::new(3, 0)));
    let mut hs: Vec<_> = (1..n)
        .map(|_| {
            let (m1, m2, d1, d2) = (
                Arc::clone(&m1),
                Arc::clone(&m2),
                Arc::clone(&d1),
                Arc::clone(&d2),
            );
            spawn(move || {
                {
                    let _g = m1.lock();
                    d1.store(1);
                }
                {
                    let _g = m2.lock();
                    d2.store(d1.load() + 1);
                }
            })
        })
        .collect();
    hs.push(spawn(move || {
        let t1 = {
            let _g = m1.lock();
            d1.load()
        };
        if t1 == 0 {
            return;
        }
        let t2 = {
            let _g = m2.lock();
            d2.load()
        };
        assert_eq!(t2, t1 + 1, "second stage not done");
    }));
    join_all(hs);
}

/// SCTBench's `wronglock_bad`: one thread increments under lock A, `n - 1` under lock B.
pub fn wronglock(n: usize) {
    let (la, lb) = (Arc::new(Lock::new(0)), Arc::new(Lock::new(1)));
    let data = Arc::new(Var::new(2, 0));
    let hs = (0..n)
        .map(|i| {
            let lock = Arc::clone(if i == 0 { &la } else { &lb });
            let data = Arc::clone(&data);
            spawn(move || {
                let _g = lock.lock();
                let v = data.load();
                data.store(v + 1);
            })
        })
        .collect();
    join_all(hs);
    assert_eq!(data.load(), n as i64, "lost update under the wrong lock");
}

/// A message chain across three threads: T2 relays `x == 1` to `y`, and T3, seeing `y`, must
/// no longer see the transient `x == 1` that T1 overwrites right away.
pub fn message_chain() {
    let (x, y) = (Arc::new(Var::new(0, 0)), Arc::new(Var::new(1, 0)));
    let x1 = Arc::clone(&x);
    let t1 = spawn(move || {
        x1.store(1);
        x1.store(2);
    });
    let (x2, y2) = (Arc::clone(&x), Arc::clone(&y));
    let t2 = spawn(move || {
        if x2.load() == 1 {
            y2.store(1);
        }
    });
    let (x3, y3) = (Arc::clone(&x), Arc::clone(&y));
    let t3 = spawn(move || {
        if y3.load() == 1 {
            assert_ne!(x3.load(), 1, "saw the transient value twice");
        }
    });
    join_all(vec![t1, t2, t3]);
}

/// Dining philosophers, `n` of them, each taking the left fork, then the right: a deadlock
/// when every one holds a left fork.
pub fn philosophers(n: usize) {
    let forks: Arc<Vec<Lock>> = Arc::new((0..n).map(|i| Lock::new(i as u64)).collect());
    let hs = (0..n)
        .map(|i| {
            let forks = Arc::clone(&forks);
            spawn(move || {
                let _l = forks[i].lock();
                let _r = forks[(i + 1) % n].lock();
            })
        })
        .collect();
    join_all(hs);
}

/// A producer/consumer ring buffer whose consumer checks `count` outside the lock that the
/// producer updates it under, and reads the slot before the producer has filled it.
pub fn ring_buffer() {
    let (lock, count) = (Arc::new(Lock::new(0)), Arc::new(Var::new(1, 0)));
    let slots: Arc<Vec<Var>> = Arc::new((0..2).map(|i| Var::new(10 + i, 0)).collect());
    let (l, c, s) = (Arc::clone(&lock), Arc::clone(&count), Arc::clone(&slots));
    let producer = spawn(move || {
        for i in 0..2 {
            let _g = l.lock();
            let n = c.load();
            c.store(n + 1);
            s[i].store(i as i64 + 1);
        }
    });
    let consumer = spawn(move || {
        for i in 0..2 {
            if count.load() > i as i64 {
                assert_ne!(slots[i].load(), 0, "consumed an empty slot");
            }
        }
    });
    join_all(vec![producer, consumer]);
}
