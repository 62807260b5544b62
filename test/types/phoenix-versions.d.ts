// The official client in two versions, installed as npm aliases for the conformance suite.
declare module 'phoenix17' {
  export * from 'phoenix'
}
declare module 'phoenix18' {
  export * from 'phoenix'
}
declare module 'xhr2' {
  const XMLHttpRequest: new () => XMLHttpRequest
  export default XMLHttpRequest
}
