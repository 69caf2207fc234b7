//! Security regression suite: the authorization matrix of every operation that takes an id, generated
//! from the served schema so a new operation is covered (or the suite fails until it is).

mod arguments;
mod coverage;
mod matrix;
mod schema;
mod world;
