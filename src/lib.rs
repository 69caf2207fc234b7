//! Fundi: a GraphQL API for hyperlocal home-services marketplaces.

pub mod app;
pub mod config;
pub mod db;
pub mod domain;
pub mod error;
pub mod gateways;
pub mod graphql;
pub mod http;
pub mod metrics;
pub mod realtime;
pub mod services;
pub mod telemetry;
