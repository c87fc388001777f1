-- wrk script of `npm run bench`: POSTs one Pipedrive v2 delivery (the same body to the bare server and to listen).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"data":{"id":42,"status":"open","title":"Acme renewal","value":12000},"meta":{"action":"change","attempt":1,"entity":"deal","entity_id":"42","id":"bench","version":"2.0","webhook_id":"7"},"previous":{"value":10000}}'
