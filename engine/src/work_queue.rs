//! One work queue for the native commands that run many independent jobs at once (`evaluate`'s
//! and `verify-report`'s (model, family) entries, `zoo curate`'s (family, model) scores): jobs by
//! index on a few threads, results in index order, no new job after an error, and a panic in a
//! job turned into an error that names it, so one bad job never takes the process down.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, mpsc};

use crate::EngineError;

/// The threads independent jobs run on by default: the machine's cores.
pub fn available_threads() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

/// What the caller hears about one job, on its own thread, while the jobs run.
#[derive(Debug, Clone, PartialEq)]
pub struct JobEvent<E> {
    /// The job's index.
    pub index: usize,
    /// Which thread runs it (0-based).
    pub worker: usize,
    /// An event the job reported, or `None` when the job is done (whatever its result).
    pub event: Option<E>,
}

/// One job's work: its index and a callback for its events in, its result out.
pub type JobWork<'a, R, E> = dyn Fn(usize, &mut dyn FnMut(E)) -> Result<R, EngineError> + Sync + 'a;

/// Runs `work(index, report)` for every index below `count` on up to `threads` threads and
/// returns the results in index order. Events the jobs report reach `on_event` on the calling
/// thread, which blocks until every started job is done. After an error no new job starts, and
/// the first error in index order is returned; a job that panics is an
/// [`EngineError::JobPanicked`] naming it by `job_name(index)` (e.g. "measuring saint-0 on
/// truth_and_reward").
pub fn run_jobs<R: Send, E: Send>(
    count: usize,
    threads: usize,
    job_name: &(dyn Fn(usize) -> String + Sync),
    work: &JobWork<'_, R, E>,
    on_event: &mut dyn FnMut(JobEvent<E>),
) -> Result<Vec<R>, EngineError> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<Result<R, EngineError>>>> =
        Mutex::new((0..count).map(|_| None).collect());
    let (sender, receiver) = mpsc::channel::<JobEvent<E>>();
    std::thread::scope(|scope| {
        for worker in 0..threads.clamp(1, count.max(1)) {
            let sender = sender.clone();
            let (next, slots) = (&next, &slots);
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= count {
                        break;
                    }
                    // The receiver lives until every worker is done, so sending cannot fail.
                    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        work(index, &mut |event| {
                            let _ = sender.send(JobEvent {
                                index,
                                worker,
                                event: Some(event),
                            });
                        })
                    }))
                    .unwrap_or_else(|payload| {
                        Err(EngineError::JobPanicked {
                            job: job_name(index),
                            message: panic_message(payload.as_ref()),
                        })
                    });
                    let _ = sender.send(JobEvent {
                        index,
                        worker,
                        event: None,
                    });
                    if result.is_err() {
                        next.store(count, Ordering::Relaxed);
                    }
                    if let Ok(mut slots) = slots.lock() {
                        slots[index] = Some(result);
                    }
                }
            });
        }
        drop(sender);
        for event in receiver {
            on_event(event);
        }
    });
    // Jobs run inside `catch_unwind`, so no worker holds the lock while panicking.
    let slots = slots.into_inner().map_err(|_| EngineError::JobPanicked {
        job: "a worker of the work queue".to_owned(),
        message: "it panicked while storing a result".to_owned(),
    })?;
    let mut results = Vec::with_capacity(count);
    for (index, slot) in slots.into_iter().enumerate() {
        match slot {
            Some(result) => results.push(result?),
            // Jobs are handed out in index order, so one that never started comes after the
            // error that stopped the queue, which the line above has returned already.
            None => {
                return Err(EngineError::InvalidParameter(format!(
                    "{} never ran: the work queue stopped after an error",
                    job_name(index)
                )));
            }
        }
    }
    Ok(results)
}

/// The text a panic was raised with (`panic!("…")` gives a `&str` or a `String`).
fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "no message".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(index: usize) -> String {
        format!("job {index}")
    }

    #[test]
    // Sleeping on a test thread is native-only and harmless.
    #[allow(clippy::disallowed_methods)]
    fn results_come_back_in_index_order_with_every_event() {
        // Later jobs finish first, so the order is the queue's doing, not the clock's.
        let work = |index: usize, report: &mut dyn FnMut(usize)| {
            std::thread::sleep(std::time::Duration::from_millis(5 * (8 - index as u64)));
            report(index * 10);
            Ok(index * index)
        };
        let mut events = Vec::new();
        let results = run_jobs(8, 3, &name, &work, &mut |event| events.push(event)).unwrap();
        assert_eq!(results, vec![0, 1, 4, 9, 16, 25, 36, 49]);
        for index in 0..8 {
            let mine: Vec<Option<usize>> = events
                .iter()
                .filter(|e| e.index == index)
                .map(|e| e.event)
                .collect();
            assert_eq!(mine, vec![Some(index * 10), None], "job {index}");
        }
        assert!(events.iter().all(|e| e.worker < 3));
    }

    #[test]
    fn a_panicking_job_becomes_an_error_naming_it() {
        let work = |index: usize, _: &mut dyn FnMut(())| {
            if index == 2 {
                panic!("scores out of range");
            }
            Ok(index)
        };
        let error = run_jobs(5, 2, &name, &work, &mut |_| {}).unwrap_err();
        assert!(
            matches!(&error, EngineError::JobPanicked { job, message }
                if job == "job 2" && message == "scores out of range"),
            "{error:?}"
        );
        assert_eq!(
            error.to_string(),
            "job 2 stopped with a panic: scores out of range"
        );
    }

    #[test]
    fn the_first_error_in_index_order_is_returned_and_no_job_starts_after_it() {
        let started = AtomicUsize::new(0);
        let work = |index: usize, _: &mut dyn FnMut(())| {
            started.fetch_add(1, Ordering::Relaxed);
            if index >= 3 {
                return Err(EngineError::InvalidParameter(format!("bad {index}")));
            }
            Ok(index)
        };
        let error = run_jobs(100, 1, &name, &work, &mut |_| {}).unwrap_err();
        assert_eq!(error.to_string(), "invalid parameter: bad 3");
        assert_eq!(started.load(Ordering::Relaxed), 4);
    }

    #[test]
    fn no_jobs_give_no_results() {
        let work = |_: usize, _: &mut dyn FnMut(())| Ok(0);
        assert!(
            run_jobs(0, 4, &name, &work, &mut |_| {})
                .unwrap()
                .is_empty()
        );
    }
}
