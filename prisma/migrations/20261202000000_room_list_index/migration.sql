-- The public room list reads the newest public rooms a page at a time (src/db/rooms.ts listPublicRooms).
-- CreateIndex
CREATE INDEX "rooms_public_listing_idx" ON "rooms"("visibility", "created_at" DESC, "id" DESC);
