//! The URLs the dispatch benchmark and its profiling example send: application paths of the
//! shared-hosting box, written in mixed case as clients send them, from a fixed generator.

/// A small deterministic generator (xorshift), so every run sends the same URLs.
pub struct Rng(pub u64);

impl Rng {
    /// The next number.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// `text` with each letter's case flipped at random.
pub fn mixed_case(rng: &mut Rng, text: &str) -> String {
    text.chars().map(|c| if rng.next() & 1 == 0 { c.to_ascii_uppercase() } else { c.to_ascii_lowercase() }).collect()
}

/// The URL of application `app` (`/SiteN/AppK/Default.aspx`).
pub fn url_of(app: usize) -> String {
    format!("/Site{}/App{}/Default.aspx", app / 10, app % 10)
}
