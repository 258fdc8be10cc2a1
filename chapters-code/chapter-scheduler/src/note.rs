//! One-shot sleep/wakeup for OS threads (Go: note, lock_futex.go): how an idle M sleeps
//! until someone hands it a P. Go builds it on a futex; a Mutex and a Condvar give the same
//! contract here: `notewakeup` before `notesleep` is not lost.

use std::sync::{Condvar, Mutex};
use std::time::Duration;

#[derive(Default)]
pub struct Note {
    key: Mutex<bool>,
    cv: Condvar,
}

impl Note {
    /// Go: notewakeup. Wakes the sleeper, or lets the next notesleep return at once.
    pub fn wakeup(&self) {
        *self.key.lock().unwrap() = true;
        self.cv.notify_one();
    }

    /// Go: notesleep. Sleeps until the note is woken.
    pub fn sleep(&self) {
        let mut k = self.key.lock().unwrap();
        while !*k {
            k = self.cv.wait(k).unwrap();
        }
    }

    /// Go: notetsleep. Sleeps at most `d`; reports whether the note was woken.
    pub fn tsleep(&self, d: Duration) -> bool {
        let k = self.key.lock().unwrap();
        let (k, _) = self.cv.wait_timeout_while(k, d, |k| !*k).unwrap();
        *k
    }

    /// Go: noteclear. Re-arms the note.
    pub fn clear(&self) {
        *self.key.lock().unwrap() = false;
    }
}
