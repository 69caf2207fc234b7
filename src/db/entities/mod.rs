//! sea-orm entities, one per table; GraphQL types live in graphql/, not here.

pub mod address;
pub mod availability_exception;
pub mod booking;
pub mod booking_event;
pub mod certification;
pub mod customer_preference;
pub mod dispute;
pub mod job_offer;
pub mod kyc_document;
pub mod kyc_event;
pub mod kyc_submission;
pub mod login_attempt;
pub mod notification;
pub mod one_time_code;
pub mod quote;
pub mod refresh_token;
pub mod service_category;
pub mod session;
pub mod technician_block;
pub mod technician_profile;
pub mod technician_skill;
pub mod user;
pub mod working_hours;
