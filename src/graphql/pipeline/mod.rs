//! The request pipeline every operation passes: persisted queries, limits, input rules, caching and field order.

pub mod cache_policy;
pub mod extensions;
pub mod field_order;
pub mod input_rules;
pub mod limits;
pub mod persisted_queries;
