import { DEMO_READER_ROLE, DEMO_SCHEMA } from '@herald/contracts';
import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The data agent's demo dataset, in a schema of its own: customers, products and two years
 * of orders, generated deterministically (no random()), so tests can assert on figures.
 * The read-only role is created once per Postgres cluster (roles are cluster-wide; several
 * databases of one cluster may migrate at once) and granted SELECT on this schema only.
 */
export class DemoDataset1795334000002 implements MigrationInterface {
  name = 'DemoDataset1795334000002';

  async up(db: QueryRunner): Promise<void> {
    await db.query(`CREATE SCHEMA ${DEMO_SCHEMA}`);
    await db.query(`
      CREATE TABLE demo.customers (
        id int PRIMARY KEY,
        name text NOT NULL,
        region text NOT NULL,
        segment text NOT NULL,
        signed_up_on date NOT NULL
      )`);
    await db.query(`
      CREATE TABLE demo.products (
        id int PRIMARY KEY,
        name text NOT NULL,
        category text NOT NULL,
        unit_price numeric(10, 2) NOT NULL
      )`);
    await db.query(`
      CREATE TABLE demo.orders (
        id int PRIMARY KEY,
        customer_id int NOT NULL REFERENCES demo.customers (id),
        product_id int NOT NULL REFERENCES demo.products (id),
        ordered_on date NOT NULL,
        quantity int NOT NULL CHECK (quantity > 0),
        amount numeric(12, 2) NOT NULL
      )`);
    await db.query(`CREATE INDEX orders_ordered_on_idx ON demo.orders (ordered_on)`);
    await db.query(`
      INSERT INTO demo.customers (id, name, region, segment, signed_up_on)
      SELECT i, 'Customer ' || lpad(i::text, 2, '0'),
             (ARRAY['North', 'South', 'East', 'West'])[1 + i % 4],
             (ARRAY['Enterprise', 'SMB', 'Consumer'])[1 + i % 3],
             date '2023-01-01' + (i * 17)
      FROM generate_series(1, 40) AS i`);
    await db.query(`
      INSERT INTO demo.products (id, name, category, unit_price) VALUES
        (1, 'Aurora Laptop', 'Hardware', 1200.00),
        (2, 'Nimbus Monitor', 'Hardware', 320.00),
        (3, 'Pulse Keyboard', 'Hardware', 89.00),
        (4, 'Atlas Analytics', 'Software', 450.00),
        (5, 'Beacon Backup', 'Software', 120.00),
        (6, 'Cipher Security', 'Software', 260.00),
        (7, 'Onboarding Workshop', 'Services', 900.00),
        (8, 'Premium Support', 'Services', 300.00)`);
    await db.query(`
      INSERT INTO demo.orders (id, customer_id, product_id, ordered_on, quantity, amount)
      SELECT i, 1 + (i * 7) % 40, p.id, date '2024-01-01' + (i * 487) % 731, 1 + (i * 13) % 9, (1 + (i * 13) % 9) * p.unit_price
      FROM generate_series(1, 1500) AS i
      JOIN demo.products p ON p.id = 1 + (i * 5) % 8`);
    await db.query(`
      DO $$ BEGIN
        CREATE ROLE ${DEMO_READER_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT;
      EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
      END $$`);
    await db.query(`GRANT USAGE ON SCHEMA ${DEMO_SCHEMA} TO ${DEMO_READER_ROLE}`);
    await db.query(`GRANT SELECT ON ALL TABLES IN SCHEMA ${DEMO_SCHEMA} TO ${DEMO_READER_ROLE}`);
  }

  async down(db: QueryRunner): Promise<void> {
    await db.query(`REVOKE ALL ON ALL TABLES IN SCHEMA ${DEMO_SCHEMA} FROM ${DEMO_READER_ROLE}`);
    await db.query(`REVOKE ALL ON SCHEMA ${DEMO_SCHEMA} FROM ${DEMO_READER_ROLE}`);
    await db.query(`DROP SCHEMA ${DEMO_SCHEMA} CASCADE`);
    // The role stays: it is shared by every database of the cluster.
  }
}
