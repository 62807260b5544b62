-- Owners, settings, roles, bans and deleted chat messages (issue #11). Rooms that existed
-- before have no owner: only admins manage them.
-- AlterTable
ALTER TABLE "rooms" ADD COLUMN "owner_id" TEXT,
ADD COLUMN "manage_token_hash" TEXT,
ADD COLUMN "capacity" INTEGER NOT NULL DEFAULT 24,
ADD COLUMN "visibility" TEXT NOT NULL DEFAULT 'public',
ADD COLUMN "locked" BOOLEAN NOT NULL DEFAULT false,
ADD COLUMN "allow_grab" BOOLEAN NOT NULL DEFAULT true,
ADD COLUMN "allow_chat" BOOLEAN NOT NULL DEFAULT true;

-- AlterTable
ALTER TABLE "chat_messages" ADD COLUMN "deleted_at" TIMESTAMPTZ(3);

-- CreateTable
CREATE TABLE "room_members" (
    "room_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'member',
    "chat_muted" BOOLEAN NOT NULL DEFAULT false,
    "voice_muted" BOOLEAN NOT NULL DEFAULT false,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "room_members_pkey" PRIMARY KEY ("room_id","user_id")
);

-- CreateTable
CREATE TABLE "room_bans" (
    "room_id" TEXT NOT NULL,
    "user_id" TEXT NOT NULL,
    "banned_by" TEXT NOT NULL,
    "until" TIMESTAMPTZ(3) NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "room_bans_pkey" PRIMARY KEY ("room_id","user_id")
);

-- CreateIndex
CREATE INDEX "rooms_owner_id_idx" ON "rooms"("owner_id");

-- AddForeignKey
ALTER TABLE "room_members" ADD CONSTRAINT "room_members_room_id_fkey" FOREIGN KEY ("room_id") REFERENCES "rooms"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "room_bans" ADD CONSTRAINT "room_bans_room_id_fkey" FOREIGN KEY ("room_id") REFERENCES "rooms"("id") ON DELETE CASCADE ON UPDATE CASCADE;
