-- Stored Stripe events no longer keep a PaymentIntent's client_secret (it lets anyone holding
-- it confirm the payment): the API removes every `client_secret` before it stores an event
-- (api/src/routes/webhooks.rs); this removes those stored before it did.
UPDATE api_stripe_events
SET payload = payload #- '{data,object,client_secret}'
WHERE payload #> '{data,object}' ? 'client_secret';

UPDATE api_stripe_events
SET payload = payload #- '{data,previous_attributes,client_secret}'
WHERE payload #> '{data,previous_attributes}' ? 'client_secret';
