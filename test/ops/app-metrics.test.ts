// The whole app reports what its rooms do to /metrics: events by name and the diffs sent out.
import t from 'tap'
import { joinedMember, pose, startRoomServer } from '../channels/fixtures/room-server.ts'

function sample (text: string, name: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `))
  return line === undefined ? undefined : Number(line.slice(name.length + 1))
}

t.test('room events and entities_diff broadcasts show in /metrics', async (t) => {
  const server = await startRoomServer(t)
  const ann = await joinedMember(t, server, 'ann')
  const bob = await joinedMember(t, server, 'bob')
  ann.channel.push('i_moved', { pose: { head: pose(7) } })
  await bob.until('ann moved', () => (bob.entity('ann')?.head as number[] | undefined)?.[0] === 7)

  const body = (await server.app.inject('/metrics')).body
  t.equal(sample(body, 'xr_room_events_total{event="user_joined"}'), 2, 'two joins')
  t.equal(sample(body, 'xr_room_events_total{event="user_moved"}'), 1, 'one move')
  t.ok((sample(body, 'xr_entities_diff_bytes_count') ?? 0) >= 1, 'the diffs carrying them were counted (joins and move may share one)')
  t.ok((sample(body, 'xr_entities_diff_bytes_sum') ?? 0) > 100, 'with their encoded size')
  t.equal(sample(body, 'xr_sockets_open'), 2)

  await server.app.runtime.supervisor.flush(server.roomId)
  const written = (await server.app.inject('/metrics')).body
  t.ok((sample(written, 'xr_persistence_delay_seconds_count') ?? 0) >= 1, 'and the writes of those diffs, with their delay')
})
