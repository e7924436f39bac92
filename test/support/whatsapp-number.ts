/** The `phone_number_id` of the fixtures, the README example and webhookBody(): the test workspace's. */
export const TEST_PHONE_NUMBER_ID = '106540352242922';
