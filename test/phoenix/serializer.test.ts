import t from 'tap'
import { ProtocolError } from '../../src/phoenix/errors.ts'
import { Events } from '../../src/phoenix/message.ts'
import { decode, encode, encodeBroadcast, encodeReply } from '../../src/phoenix/serializer.ts'

t.test('decode reads a v2 frame and encode writes it back unchanged', async t => {
  const raw = '["1","2","room:lobby","phx_join",{"name":"ada"}]'
  const message = decode(raw)
  t.same(message, { joinRef: '1', ref: '2', topic: 'room:lobby', event: 'phx_join', payload: { name: 'ada' } })
  t.equal(encode(message), raw)

  const heartbeat = '[null,"3","phoenix","heartbeat",{}]'
  t.same(decode(heartbeat), { joinRef: null, ref: '3', topic: 'phoenix', event: 'heartbeat', payload: {} })
  t.equal(encode(decode(heartbeat)), heartbeat)
})

t.test('encodeReply wraps status and response in a phx_reply', async t => {
  const frame = encodeReply({ joinRef: '1', ref: '5', topic: 'room:a', status: 'error', response: { reason: 'x' } })
  t.same(JSON.parse(frame), ['1', '5', 'room:a', Events.reply, { status: 'error', response: { reason: 'x' } }])
})

t.test('encodeBroadcast has no refs and yields one string to send to everyone', async t => {
  const frame = encodeBroadcast('room:a', 'moved', { x: 1 })
  t.equal(frame, '[null,null,"room:a","moved",{"x":1}]')
  t.same(decode(frame), { joinRef: null, ref: null, topic: 'room:a', event: 'moved', payload: { x: 1 } })
})

t.test('decode rejects every malformed frame with ProtocolError', async t => {
  const cases: Array<[string, string, unknown]> = [
    ['invalid JSON', '[null, "1", "room:a"', null],
    ['not an array', '{"topic":"room:a"}', null],
    ['JSON null', 'null', null],
    ['four elements', '[null,"1","room:a","ev"]', null],
    ['six elements', '[null,"1","room:a","ev",{},1]', null],
    ['numeric join_ref', '[1,"2","room:a","ev",{}]', { joinRef: null, ref: '2', topic: 'room:a' }],
    ['numeric ref', '["1",2,"room:a","ev",{}]', null],
    ['numeric topic', '["1","2",7,"ev",{}]', null],
    ['empty topic', '["1","2","","ev",{}]', { joinRef: '1', ref: '2', topic: '' }],
    ['numeric event', '["1","2","room:a",3,{}]', { joinRef: '1', ref: '2', topic: 'room:a' }],
    ['empty event', '["1","2","room:a","",{}]', { joinRef: '1', ref: '2', topic: 'room:a' }],
    ['null payload', '["1","2","room:a","ev",null]', { joinRef: '1', ref: '2', topic: 'room:a' }],
    ['array payload', '["1","2","room:a","ev",[]]', { joinRef: '1', ref: '2', topic: 'room:a' }],
    ['string payload', '["1","2","room:a","ev","hi"]', { joinRef: '1', ref: '2', topic: 'room:a' }]
  ]
  for (const [name, raw, replyTo] of cases) {
    try {
      decode(raw)
      t.fail(`${name}: accepted`)
    } catch (err) {
      t.ok(err instanceof ProtocolError, `${name}: ProtocolError`)
      t.equal((err as ProtocolError).code, 'XR_ERR_PHOENIX_PROTOCOL', `${name}: code`)
      t.same((err as ProtocolError).replyTo, replyTo, `${name}: reply target`)
    }
  }
})
