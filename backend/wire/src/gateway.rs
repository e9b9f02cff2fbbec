//! Gateway <-> backend call-control protocol (carried over Redis Streams): see issue 4.
