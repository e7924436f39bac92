import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * WhatsApp statuses and replies that name a message id the dispatcher has not registered yet,
 * kept until the registration comes (then applied and deleted in the same transaction) or until
 * the retention window passes.
 */
export class ParkedDeliveries1764403200000 implements MigrationInterface {
  name = 'ParkedDeliveries1764403200000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      CREATE TABLE parked_deliveries (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        whatsapp_message_id text COLLATE "C" NOT NULL,
        evidence smallint NOT NULL,
        occurred_at timestamptz NOT NULL,
        error_code integer,
        error_title text,
        received_at timestamptz NOT NULL DEFAULT now()
      )`);
    // A redelivered webhook parks nothing new: the same fact about the same message is one row.
    await q.query(`
      CREATE UNIQUE INDEX parked_deliveries_fact_key
        ON parked_deliveries (whatsapp_message_id, evidence, occurred_at, coalesce(error_code, -1))`);
    await q.query(`CREATE INDEX parked_deliveries_received_idx ON parked_deliveries (received_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`DROP TABLE parked_deliveries`);
  }
}
