//! Seeded mutation engine.
