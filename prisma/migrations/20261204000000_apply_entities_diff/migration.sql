-- One diff (src/shared/world.ts EntitiesDiff) applied to a room's components by one statement, so
-- a write is one round trip to the database whatever the diff holds (src/db/rooms.ts applyDiff).
-- In the diff's order: creates (each replaces its entity: the components it does not name are
-- soft-deleted, the ones it names upserted and revived), updates (merged into live entities only,
-- so a late update never brings back a deleted entity as a fragment), then deletes (soft: a
-- returning user's last pose stays readable).
CREATE FUNCTION apply_entities_diff(p_room_id TEXT, p_creates JSONB, p_updates JSONB, p_deletes JSONB)
RETURNS INTEGER
LANGUAGE plpgsql
AS $$
BEGIN
  IF p_creates <> '{}'::jsonb THEN
    UPDATE components SET deleted_at = now(), updated_at = now()
    WHERE room_id = p_room_id AND deleted_at IS NULL
      AND entity_id IN (SELECT jsonb_object_keys(p_creates));
    INSERT INTO components (room_id, entity_id, component_name, value)
    SELECT p_room_id, e.key, c.key, c.value
    FROM jsonb_each(p_creates) AS e, jsonb_each(e.value) AS c
    ON CONFLICT (room_id, entity_id, component_name)
    DO UPDATE SET value = EXCLUDED.value, deleted_at = NULL, updated_at = now();
  END IF;
  IF p_updates <> '{}'::jsonb THEN
    INSERT INTO components (room_id, entity_id, component_name, value)
    SELECT p_room_id, e.key, c.key, c.value
    FROM jsonb_each(p_updates) AS e, jsonb_each(e.value) AS c
    WHERE EXISTS (SELECT 1 FROM components live
                  WHERE live.room_id = p_room_id AND live.entity_id = e.key AND live.deleted_at IS NULL)
    ON CONFLICT (room_id, entity_id, component_name)
    DO UPDATE SET value = EXCLUDED.value, deleted_at = NULL, updated_at = now();
  END IF;
  IF p_deletes <> '{}'::jsonb THEN
    UPDATE components SET deleted_at = now(), updated_at = now()
    WHERE room_id = p_room_id AND deleted_at IS NULL
      AND entity_id IN (SELECT jsonb_object_keys(p_deletes));
  END IF;
  RETURN 0;
END
$$;
