//! The order training examples are taken in: each epoch a fresh seeded shuffle, then prompts of
//! similar length grouped into the same batch (so little compute goes to padding), batches in
//! random order. `train::fine_tune`'s loop takes consecutive runs of `batch_size` examples, so
//! the order alone decides the batches.

use poser_corpus::rng::Rng;

/// How many batches are sorted by length together: large enough that batches are nearly
/// uniform in length, small enough that each epoch's batches differ.
const SORT_WINDOW_BATCHES: usize = 16;

/// Example indices for `epochs` epochs over examples of lengths `lengths`, a whole number of
/// batches per epoch (the last `len % batch_size` of each shuffle are left out of that epoch,
/// different ones each time).
pub fn epoch_order(lengths: &[usize], batch_size: usize, epochs: usize, seed: u64) -> Vec<usize> {
    let batch_size = batch_size.max(1);
    let per_epoch = lengths.len() / batch_size;
    let mut order = Vec::with_capacity(per_epoch * batch_size * epochs);
    for epoch in 0..epochs {
        let mut rng = Rng::derived(seed, &format!("epoch-{epoch}"));
        let mut indices: Vec<usize> = (0..lengths.len()).collect();
        rng.shuffle(&mut indices);
        indices.truncate(per_epoch * batch_size);
        let mut batches: Vec<Vec<usize>> = Vec::with_capacity(per_epoch);
        for window in indices.chunks_mut(SORT_WINDOW_BATCHES * batch_size) {
            window.sort_by_key(|&index| lengths[index]);
            batches.extend(window.chunks(batch_size).map(<[usize]>::to_vec));
        }
        rng.shuffle(&mut batches);
        order.extend(batches.into_iter().flatten());
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_epoch_is_whole_batches_of_distinct_examples_of_similar_length() {
        let lengths: Vec<usize> = (0..103).map(|i| 10 + (i * 37) % 90).collect();
        let order = epoch_order(&lengths, 8, 3, 5);
        assert_eq!(order.len(), 3 * 12 * 8);
        assert_eq!(order, epoch_order(&lengths, 8, 3, 5));
        for epoch in order.chunks(96) {
            let mut seen = epoch.to_vec();
            seen.sort_unstable();
            seen.dedup();
            assert_eq!(seen.len(), 96, "an example repeats within an epoch");
        }
        assert_ne!(order[..96], order[96..192], "epochs must be reshuffled");
        // Sorting within windows keeps each batch's lengths close together.
        let spread: usize = order
            .chunks(8)
            .map(|batch| {
                let lens: Vec<usize> = batch.iter().map(|&i| lengths[i]).collect();
                lens.iter().max().unwrap() - lens.iter().min().unwrap()
            })
            .sum::<usize>()
            / (order.len() / 8);
        assert!(spread < 20, "mean spread of lengths in a batch {spread}");
    }
}
