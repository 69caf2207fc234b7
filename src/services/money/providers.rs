//! Which payment provider takes a method's payments and refunds, as this server is configured.

use crate::domain::payments::Method;
use crate::error::{AppError, AppResult};
use crate::gateways::payments::{Cash, PaymentGateway, Sandbox};
use crate::gateways::razorpay::RazorpayGateway;
use crate::gateways::stripe::StripeGateway;
use crate::services::Services;

/// The gateway for a method, as this server is configured.
pub fn gateway_for(services: &Services, method: Method) -> AppResult<Box<dyn PaymentGateway>> {
    match method {
        Method::Sandbox if services.config.is_production() => Err(AppError::bad_input(
            "method",
            "the SANDBOX gateway is disabled in production",
        )),
        Method::Sandbox => Ok(Box::new(Sandbox)),
        Method::Cash => Ok(Box::new(Cash)),
        Method::Stripe => match &services.config.stripe {
            Some(settings) => Ok(Box::new(StripeGateway::new(
                settings,
                services.config.gateway_timeout,
            ))),
            None => Err(not_set_up(method)),
        },
        Method::Mpesa => match &services.mpesa {
            Some(mpesa) => Ok(Box::new(mpesa.clone())),
            None => Err(not_set_up(method)),
        },
        Method::Razorpay => match &services.config.razorpay {
            Some(settings) => Ok(Box::new(RazorpayGateway::new(
                settings,
                services.config.gateway_timeout,
            ))),
            None => Err(not_set_up(method)),
        },
    }
}

fn not_set_up(method: Method) -> AppError {
    AppError::bad_input(
        "method",
        format!("{} is not set up on this server", method.as_str()),
    )
}
