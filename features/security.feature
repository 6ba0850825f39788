@security
Feature: Forged, malformed and misplaced session tokens
  The middleware lets a request through only with a session token it can verify: RS256, signed by a key the
  instance publishes, within its validity window (5 s of clock skew), naming a user, for a session that is not
  pending. Every other token is treated as signed out: a page request is sent to sign in, an API request gets no
  data, and nothing is forwarded downstream. A page request with a token outside its validity window goes
  through Clerk's handshake first, and Clerk refreshes only a session that is still active: the token itself is
  never used. Tokens travel in the __session cookie or an Authorization: Bearer header, never in the query string.

  "I have an account at Clerk" creates my user and an active session at Clerk while this browser stays signed
  out; a forged token then names that real user and session, so the forgery is the only reason to refuse it.
  Each variant is an example with its own id, so a target profile can expect one variant to fail.

  Scenario Outline: A forged session token on a page request sends me to sign in: <variant>
    Given I have an account at Clerk
    And my browser holds a forged session token: <variant>
    When I open /schedules
    Then the API received no request
    And the API never received that token
    And I am sent to sign in, with a way back to /schedules

    @SEC-101
    Examples: unknown-kid
      | variant     |
      | unknown-kid |

    @SEC-102
    Examples: foreign-key
      | variant     |
      | foreign-key |

    @SEC-103
    Examples: alg-none
      | variant  |
      | alg-none |

    @SEC-104
    Examples: hs256-public-key
      | variant          |
      | hs256-public-key |

    @SEC-105
    Examples: tampered-payload
      | variant          |
      | tampered-payload |

    @SEC-106
    Examples: missing-sub
      | variant     |
      | missing-sub |

    @SEC-107
    Examples: other-instance
      | variant        |
      | other-instance |

  # A page request with a token outside its validity window goes through Clerk's handshake; the session has
  # ended at Clerk, so nothing is refreshed and I end at the sign-in page. The refusal and the way back are
  # separate scenarios, so a target that only loses the way back still has its refusal checked.
  Scenario Outline: A token outside its validity window, for a session that has ended, is refused: <variant>
    Given I have an account at Clerk
    And my session is revoked at Clerk
    And my browser holds a forged session token: <variant>
    When I open /schedules
    Then the API received no request
    And the API never received that token
    And Clerk issued no new session token for my session
    And I land on /auth/sign-in

    @SEC-111
    Examples: expired
      | variant |
      | expired |

    @SEC-112
    Examples: not-yet-valid
      | variant       |
      | not-yet-valid |

    @SEC-113
    Examples: iat-in-future
      | variant       |
      | iat-in-future |

  Scenario Outline: A token outside its validity window, for a session that has ended, sends me to sign in: <variant>
    Given I have an account at Clerk
    And my session is revoked at Clerk
    And my browser holds a forged session token: <variant>
    When I open /schedules
    Then I am sent to sign in, with a way back to /schedules

    @SEC-114
    Examples: expired
      | variant |
      | expired |

    @SEC-115
    Examples: not-yet-valid
      | variant       |
      | not-yet-valid |

    @SEC-116
    Examples: iat-in-future
      | variant       |
      | iat-in-future |

  # For a session still active at Clerk the handshake may refresh it, as token-refresh.feature expects; the token
  # outside its validity window must still never be used.
  Scenario Outline: A token outside its validity window is never used, even for an active session: <variant>
    Given I have an account at Clerk
    And my browser holds a forged session token: <variant>
    When I open /schedules
    Then the API never received that token

    @SEC-121
    Examples: expired
      | variant |
      | expired |

    @SEC-122
    Examples: not-yet-valid
      | variant       |
      | not-yet-valid |

    @SEC-123
    Examples: iat-in-future
      | variant       |
      | iat-in-future |

  # sts: pending is a session with unfinished tasks, signed out until they are done. Clerk sends it to the tasks
  # step of the sign-in flow (<sign-in>/tasks), which the documented /auth/sign-in page renders.
  @SEC-131
  Scenario: A pending session on a page request is sent to the sign-in flow
    Given I have an account at Clerk
    And my browser holds a forged session token: sts-pending
    When I open /schedules
    Then the API received no request
    And the API never received that token
    And I am sent to the sign-in flow, with a way back to /schedules

  # Without sid, Clerk's SDK accepts the token but getToken() returns null, and the documented getSchedules
  # throws "Unauthorized". Whatever the page shows, no data and no request leave the app.
  @SEC-132
  Scenario: A token without a session id on a page request gets no data
    Given I have an account at Clerk
    And my browser holds a forged session token: missing-sid
    When I open /schedules
    Then the response carries no API data
    And the API received no request
    And the API never received that token

  Scenario Outline: A forged session cookie on an API route gets no data: <variant>, <method> <route>
    Given I have an account at Clerk
    And my browser holds a forged session token: <variant>
    When I fetch <method> <route>
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    @SEC-201
    Examples: expired
      | variant | method | route            |
      | expired | GET    | /api/schedules   |
      | expired | POST   | /api/schedules   |
      | expired | PUT    | /api/schedules/1 |
      | expired | DELETE | /api/schedules/1 |

    @SEC-202
    Examples: not-yet-valid
      | variant       | method | route            |
      | not-yet-valid | GET    | /api/schedules   |
      | not-yet-valid | POST   | /api/schedules   |
      | not-yet-valid | PUT    | /api/schedules/1 |
      | not-yet-valid | DELETE | /api/schedules/1 |

    @SEC-203
    Examples: iat-in-future
      | variant       | method | route            |
      | iat-in-future | GET    | /api/schedules   |
      | iat-in-future | POST   | /api/schedules   |
      | iat-in-future | PUT    | /api/schedules/1 |
      | iat-in-future | DELETE | /api/schedules/1 |

    @SEC-204
    Examples: unknown-kid
      | variant     | method | route            |
      | unknown-kid | GET    | /api/schedules   |
      | unknown-kid | POST   | /api/schedules   |
      | unknown-kid | PUT    | /api/schedules/1 |
      | unknown-kid | DELETE | /api/schedules/1 |

    @SEC-205
    Examples: foreign-key
      | variant     | method | route            |
      | foreign-key | GET    | /api/schedules   |
      | foreign-key | POST   | /api/schedules   |
      | foreign-key | PUT    | /api/schedules/1 |
      | foreign-key | DELETE | /api/schedules/1 |

    @SEC-206
    Examples: alg-none
      | variant  | method | route            |
      | alg-none | GET    | /api/schedules   |
      | alg-none | POST   | /api/schedules   |
      | alg-none | PUT    | /api/schedules/1 |
      | alg-none | DELETE | /api/schedules/1 |

    @SEC-207
    Examples: hs256-public-key
      | variant          | method | route            |
      | hs256-public-key | GET    | /api/schedules   |
      | hs256-public-key | POST   | /api/schedules   |
      | hs256-public-key | PUT    | /api/schedules/1 |
      | hs256-public-key | DELETE | /api/schedules/1 |

    @SEC-208
    Examples: tampered-payload
      | variant          | method | route            |
      | tampered-payload | GET    | /api/schedules   |
      | tampered-payload | POST   | /api/schedules   |
      | tampered-payload | PUT    | /api/schedules/1 |
      | tampered-payload | DELETE | /api/schedules/1 |

    @SEC-209
    Examples: missing-sub
      | variant     | method | route            |
      | missing-sub | GET    | /api/schedules   |
      | missing-sub | POST   | /api/schedules   |
      | missing-sub | PUT    | /api/schedules/1 |
      | missing-sub | DELETE | /api/schedules/1 |

    @SEC-210
    Examples: missing-sid
      | variant     | method | route            |
      | missing-sid | GET    | /api/schedules   |
      | missing-sid | POST   | /api/schedules   |
      | missing-sid | PUT    | /api/schedules/1 |
      | missing-sid | DELETE | /api/schedules/1 |

    @SEC-211
    Examples: sts-pending
      | variant     | method | route            |
      | sts-pending | GET    | /api/schedules   |
      | sts-pending | POST   | /api/schedules   |
      | sts-pending | PUT    | /api/schedules/1 |
      | sts-pending | DELETE | /api/schedules/1 |

    @SEC-212
    Examples: other-instance
      | variant        | method | route            |
      | other-instance | GET    | /api/schedules   |
      | other-instance | POST   | /api/schedules   |
      | other-instance | PUT    | /api/schedules/1 |
      | other-instance | DELETE | /api/schedules/1 |

  Scenario Outline: A forged Bearer token on an API route gets no data: <variant>, <method> <route>
    Given I have an account at Clerk
    And I send a forged session token as a Bearer header: <variant>
    When I fetch <method> <route>
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    @SEC-301
    Examples: expired
      | variant | method | route            |
      | expired | GET    | /api/schedules   |
      | expired | POST   | /api/schedules   |
      | expired | PUT    | /api/schedules/1 |
      | expired | DELETE | /api/schedules/1 |

    @SEC-302
    Examples: not-yet-valid
      | variant       | method | route            |
      | not-yet-valid | GET    | /api/schedules   |
      | not-yet-valid | POST   | /api/schedules   |
      | not-yet-valid | PUT    | /api/schedules/1 |
      | not-yet-valid | DELETE | /api/schedules/1 |

    @SEC-303
    Examples: iat-in-future
      | variant       | method | route            |
      | iat-in-future | GET    | /api/schedules   |
      | iat-in-future | POST   | /api/schedules   |
      | iat-in-future | PUT    | /api/schedules/1 |
      | iat-in-future | DELETE | /api/schedules/1 |

    @SEC-304
    Examples: unknown-kid
      | variant     | method | route            |
      | unknown-kid | GET    | /api/schedules   |
      | unknown-kid | POST   | /api/schedules   |
      | unknown-kid | PUT    | /api/schedules/1 |
      | unknown-kid | DELETE | /api/schedules/1 |

    @SEC-305
    Examples: foreign-key
      | variant     | method | route            |
      | foreign-key | GET    | /api/schedules   |
      | foreign-key | POST   | /api/schedules   |
      | foreign-key | PUT    | /api/schedules/1 |
      | foreign-key | DELETE | /api/schedules/1 |

    @SEC-306
    Examples: alg-none
      | variant  | method | route            |
      | alg-none | GET    | /api/schedules   |
      | alg-none | POST   | /api/schedules   |
      | alg-none | PUT    | /api/schedules/1 |
      | alg-none | DELETE | /api/schedules/1 |

    @SEC-307
    Examples: hs256-public-key
      | variant          | method | route            |
      | hs256-public-key | GET    | /api/schedules   |
      | hs256-public-key | POST   | /api/schedules   |
      | hs256-public-key | PUT    | /api/schedules/1 |
      | hs256-public-key | DELETE | /api/schedules/1 |

    @SEC-308
    Examples: tampered-payload
      | variant          | method | route            |
      | tampered-payload | GET    | /api/schedules   |
      | tampered-payload | POST   | /api/schedules   |
      | tampered-payload | PUT    | /api/schedules/1 |
      | tampered-payload | DELETE | /api/schedules/1 |

    @SEC-309
    Examples: missing-sub
      | variant     | method | route            |
      | missing-sub | GET    | /api/schedules   |
      | missing-sub | POST   | /api/schedules   |
      | missing-sub | PUT    | /api/schedules/1 |
      | missing-sub | DELETE | /api/schedules/1 |

    @SEC-310
    Examples: missing-sid
      | variant     | method | route            |
      | missing-sid | GET    | /api/schedules   |
      | missing-sid | POST   | /api/schedules   |
      | missing-sid | PUT    | /api/schedules/1 |
      | missing-sid | DELETE | /api/schedules/1 |

    @SEC-311
    Examples: sts-pending
      | variant     | method | route            |
      | sts-pending | GET    | /api/schedules   |
      | sts-pending | POST   | /api/schedules   |
      | sts-pending | PUT    | /api/schedules/1 |
      | sts-pending | DELETE | /api/schedules/1 |

    @SEC-312
    Examples: other-instance
      | variant        | method | route            |
      | other-instance | GET    | /api/schedules   |
      | other-instance | POST   | /api/schedules   |
      | other-instance | PUT    | /api/schedules/1 |
      | other-instance | DELETE | /api/schedules/1 |

  Scenario Outline: A malformed session cookie on a page request sends me to sign in: <kind>
    Given I have an account at Clerk
    When I open /schedules with a malformed session cookie: <kind>
    Then the API received no request
    And the API never received that token
    And I am sent to sign in, with a way back to /schedules

    @SEC-401
    Examples: not a JWT
      | kind      |
      | not a JWT |

    @SEC-402
    Examples: 16 KiB long
      | kind        |
      | 16 KiB long |

    @SEC-403
    Examples: non-ASCII
      | kind      |
      | non-ASCII |

  Scenario Outline: A malformed session cookie on an API route gets no data: <kind>, <method> <route>
    Given I have an account at Clerk
    When I fetch <method> <route> with a malformed session cookie: <kind>
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    @SEC-411
    Examples: not a JWT
      | kind      | method | route            |
      | not a JWT | GET    | /api/schedules   |
      | not a JWT | POST   | /api/schedules   |
      | not a JWT | PUT    | /api/schedules/1 |
      | not a JWT | DELETE | /api/schedules/1 |

    @SEC-412
    Examples: 16 KiB long
      | kind        | method | route            |
      | 16 KiB long | GET    | /api/schedules   |
      | 16 KiB long | POST   | /api/schedules   |
      | 16 KiB long | PUT    | /api/schedules/1 |
      | 16 KiB long | DELETE | /api/schedules/1 |

    @SEC-413
    Examples: non-ASCII
      | kind      | method | route            |
      | non-ASCII | GET    | /api/schedules   |
      | non-ASCII | POST   | /api/schedules   |
      | non-ASCII | PUT    | /api/schedules/1 |
      | non-ASCII | DELETE | /api/schedules/1 |

  Scenario Outline: A malformed Bearer token on an API route gets no data: <kind>, <method> <route>
    Given I have an account at Clerk
    When I fetch <method> <route> with a malformed Bearer header: <kind>
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    @SEC-421
    Examples: not a JWT
      | kind      | method | route            |
      | not a JWT | GET    | /api/schedules   |
      | not a JWT | POST   | /api/schedules   |
      | not a JWT | PUT    | /api/schedules/1 |
      | not a JWT | DELETE | /api/schedules/1 |

    @SEC-422
    Examples: 16 KiB long
      | kind        | method | route            |
      | 16 KiB long | GET    | /api/schedules   |
      | 16 KiB long | POST   | /api/schedules   |
      | 16 KiB long | PUT    | /api/schedules/1 |
      | 16 KiB long | DELETE | /api/schedules/1 |

    @SEC-423
    Examples: non-ASCII
      | kind      | method | route            |
      | non-ASCII | GET    | /api/schedules   |
      | non-ASCII | POST   | /api/schedules   |
      | non-ASCII | PUT    | /api/schedules/1 |
      | non-ASCII | DELETE | /api/schedules/1 |

  # My real, valid token, but in the URL (where it ends up in logs, history and Referer headers).
  @SEC-501
  Scenario: A session token in the query string does not sign me in on a page
    Given I have an account at Clerk
    When I open /schedules with my session token in the query string
    Then the API received no request
    And the API never received that token
    And I am sent to sign in, with a way back to the page I opened

  @SEC-502
  Scenario Outline: A session token in the query string does not sign me in on an API route: <method> <route>
    Given I have an account at Clerk
    When I fetch <method> <route> with my session token in the query string
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    Examples:
      | method | route            |
      | GET    | /api/schedules   |
      | POST   | /api/schedules   |
      | PUT    | /api/schedules/1 |
      | DELETE | /api/schedules/1 |

  # The replay brings back the cookies a copy taken before sign-out holds: the old token and its __client_uat
  # (replaying the token alone is sign-out.feature's SO-004).
  @SEC-601
  Scenario: After sign-out, my old token replayed once it expires is refused and never refreshed
    Given I am signed in
    When I sign out
    And I replay my old session cookies
    And 120 seconds pass
    And I open /schedules
    Then the API received no request
    And Clerk issued no new session token for my session
    And I land on /auth/sign-in

  @SEC-602
  Scenario: After sign-out, my old token is not refreshed even with the refresh cookie
    Given I am signed in
    And I hold my refresh cookie
    When I sign out
    And I replay my old session cookies
    And 120 seconds pass
    And I open /schedules
    Then the API received no request
    And Clerk issued no new session token for my session
    And I land on /auth/sign-in

  @SEC-603
  Scenario Outline: After sign-out, my old token replayed as a Bearer header once it expires gets no data: <method> <route>
    Given I am signed in
    When I sign out
    And I replay my old session token as a Bearer header
    And 120 seconds pass
    And I fetch <method> <route>
    Then the response carries no API data
    And the API received no request

    Examples:
      | method | route            |
      | GET    | /api/schedules   |
      | POST   | /api/schedules   |
      | PUT    | /api/schedules/1 |
      | DELETE | /api/schedules/1 |

  # The sign-out route revokes the session the token names: a forged token must revoke nothing. Serial, like
  # sign-out.feature: the revoke count is read from mock-clerk's log by session id.
  @serial
  Scenario Outline: A forged token on the sign-out route revokes nothing: <variant>
    Given I have an account at Clerk
    And my browser holds a forged session token: <variant>
    When I sign out
    Then my session is still active at Clerk

    @SEC-701
    Examples: unknown-kid
      | variant     |
      | unknown-kid |

    @SEC-702
    Examples: foreign-key
      | variant     |
      | foreign-key |

    @SEC-703
    Examples: alg-none
      | variant  |
      | alg-none |

    @SEC-704
    Examples: hs256-public-key
      | variant          |
      | hs256-public-key |

    @SEC-705
    Examples: tampered-payload
      | variant          |
      | tampered-payload |

    @SEC-706
    Examples: missing-sub
      | variant     |
      | missing-sub |

    @SEC-707
    Examples: missing-sid
      | variant     |
      | missing-sid |

    @SEC-708
    Examples: sts-pending
      | variant     |
      | sts-pending |

    @SEC-709
    Examples: other-instance
      | variant        |
      | other-instance |
