-- Fencing token of the process that runs the room (see src/runtime/room-leases.ts): writes
-- of an older token are refused.
-- AlterTable
ALTER TABLE "rooms" ADD COLUMN "lease_token" INTEGER NOT NULL DEFAULT 0;
