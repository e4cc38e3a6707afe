//! End-to-end tests of the alcove binary.
