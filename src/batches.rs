//! Batches handed from a producing thread to its consumer and back: the
//! reading path's three stages (the CSV parser or the sheet reader, the row
//! mapper, the consumer) pass their rows this way.
//!
//! The producer fills a batch, sends it with how many of its items are
//! filled, and takes the next empty one from those the consumer gave back,
//! making new ones only while fewer than `ahead + 1` exist. So the items'
//! buffers are reused from batch to batch and always freed by the thread
//! that made them (freeing on another thread is what made an earlier
//! two-thread reader slower than one).

use std::sync::mpsc::{sync_channel, Receiver, SyncSender};

/// What the producer sends.
enum Message<T, E> {
    /// A batch and how many of its items are filled.
    Batch(Vec<T>, usize),
    /// Producing stopped on an error: the batches before it were sent first.
    Error(E),
}

/// A producer and its consumer, with at most `ahead` filled batches waiting
/// between them, each made with room for `capacity` items.
pub(crate) fn channel<T, E>(ahead: usize, capacity: usize) -> (Producer<T, E>, Consumer<T, E>) {
    let (tx, rx) = sync_channel(ahead);
    let (recycle, recycled) = sync_channel(ahead + 1);
    (
        Producer {
            tx,
            recycled,
            made: 0,
            ahead,
            capacity,
        },
        Consumer {
            rx,
            recycle,
            batch: Vec::new(),
            filled: 0,
            next: 0,
            done: false,
        },
    )
}

/// The producing thread's side.
pub(crate) struct Producer<T, E> {
    tx: SyncSender<Message<T, E>>,
    recycled: Receiver<Vec<T>>,
    made: usize,
    ahead: usize,
    capacity: usize,
}

impl<T, E> Producer<T, E> {
    /// An empty batch to fill (its items kept, to be reused): one given
    /// back, a new one while few exist, or else the next given back. `None`
    /// when the consumer is gone.
    pub(crate) fn take(&mut self) -> Option<Vec<T>> {
        if let Ok(b) = self.recycled.try_recv() {
            return Some(b);
        }
        if self.made <= self.ahead {
            self.made += 1;
            return Some(Vec::with_capacity(self.capacity));
        }
        self.recycled.recv().ok()
    }

    /// Sends `batch`, of which the first `filled` items are filled; false
    /// when the consumer is gone. An empty batch is not sent.
    pub(crate) fn send(&self, batch: Vec<T>, filled: usize) -> bool {
        filled == 0 || self.tx.send(Message::Batch(batch, filled)).is_ok()
    }

    /// Tells the consumer that producing stopped on `e`.
    pub(crate) fn fail(&self, e: E) {
        let _ = self.tx.send(Message::Error(e));
    }
}

/// The consuming thread's side: one item at a time.
pub(crate) struct Consumer<T, E> {
    rx: Receiver<Message<T, E>>,
    recycle: SyncSender<Vec<T>>,
    batch: Vec<T>,
    filled: usize,
    /// The index in `batch` of the next item.
    next: usize,
    done: bool,
}

impl<T, E> Consumer<T, E> {
    /// A consumer whose producer has already failed with `e`, for when the
    /// producing thread could not even start.
    pub(crate) fn failed(e: E) -> Consumer<T, E> {
        let (producer, consumer) = channel(1, 0);
        producer.fail(e);
        consumer
    }

    /// Moves to the next item, giving the batch consumed back and waiting
    /// for the next when needed: true when there is one (see
    /// [`Consumer::current`]), false at the end, or the producer's error.
    pub(crate) fn advance(&mut self) -> Result<bool, E> {
        while self.next >= self.filled {
            if self.done {
                return Ok(false);
            }
            let read = std::mem::take(&mut self.batch);
            if !read.is_empty() {
                let _ = self.recycle.try_send(read);
            }
            self.next = 0;
            self.filled = 0;
            match self.rx.recv() {
                Ok(Message::Batch(items, n)) => {
                    self.batch = items;
                    self.filled = n;
                }
                Ok(Message::Error(e)) => {
                    self.done = true;
                    return Err(e);
                }
                Err(_) => self.done = true,
            }
        }
        self.next += 1;
        Ok(true)
    }

    /// The item [`Consumer::advance`] moved to.
    pub(crate) fn current(&self) -> &T {
        &self.batch[self.next - 1]
    }

    /// The same, to change.
    pub(crate) fn current_mut(&mut self) -> &mut T {
        &mut self.batch[self.next - 1]
    }

    /// The item `k` places after the current one, if this batch holds it.
    pub(crate) fn ahead(&self, k: usize) -> Option<&T> {
        self.batch[..self.filled].get(self.next - 1 + k)
    }

    /// True when the current item is the first of its batch.
    pub(crate) fn batch_started(&self) -> bool {
        self.next == 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_arrive_in_order_and_batches_come_back_to_be_reused() {
        let (mut producer, mut consumer) = channel::<String, String>(2, 4);
        let thread = std::thread::spawn(move || {
            let mut next = 0;
            let mut reused = 0;
            while next < 100 {
                let mut batch = producer.take().expect("the consumer is there");
                if batch.first().is_some_and(|s| s.capacity() > 0) {
                    reused += 1;
                }
                let mut n = 0;
                while n < 4 && next < 100 {
                    if batch.len() == n {
                        batch.push(String::new());
                    }
                    batch[n].clear();
                    batch[n].push_str(&next.to_string());
                    n += 1;
                    next += 1;
                }
                assert!(producer.send(batch, n));
            }
            producer.fail("stopped".into());
            reused
        });
        let mut seen = Vec::new();
        let error = loop {
            match consumer.advance() {
                Ok(true) => {
                    if seen.len() % 4 == 0 {
                        assert!(consumer.batch_started());
                        assert_eq!(
                            consumer.ahead(3).map(String::as_str),
                            Some(&*(seen.len() + 3).to_string())
                        );
                    }
                    seen.push(consumer.current().clone());
                }
                Ok(false) => panic!("the error comes before the end"),
                Err(e) => break e,
            }
        };
        assert_eq!(error, "stopped");
        assert_eq!(seen, (0..100).map(|i| i.to_string()).collect::<Vec<_>>());
        // 25 batches, at most 3 ever made: the rest were given back.
        assert!(thread.join().unwrap() >= 25 - 3);
        assert_eq!(consumer.advance(), Ok(false));
    }

    #[test]
    fn a_consumer_gone_stops_the_producer_and_a_failed_start_says_why() {
        let (mut producer, consumer) = channel::<u8, ()>(1, 1);
        drop(consumer);
        let batch = producer.take().unwrap();
        assert!(!producer.send(batch, 1));
        let mut c: Consumer<u8, &str> = Consumer::failed("no thread");
        assert_eq!(c.advance(), Err("no thread"));
        assert_eq!(c.advance(), Ok(false));
    }
}
