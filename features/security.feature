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
    When I open the data page
    Then the API received no request
    And the API never received that token
    And I am sent to sign in, with a way back to the data page

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
    When I open the data page
    Then the API received no request
    And the API never received that token
    And Clerk issued no new session token for my session
    And I land on the sign-in page

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
    When I open the data page
    Then I am sent to sign in, with a way back to the data page

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
    When I open the data page
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
    When I open the data page
    Then the API received no request
    And the API never received that token
    And I am sent to the sign-in flow, with a way back to the data page

  # Without sid, Clerk's SDK accepts the token but getToken() returns null, and the documented getSchedules
  # throws "Unauthorized". Whatever the page shows, no data and no request leave the app.
  @SEC-132
  Scenario: A token without a session id on a page request gets no data
    Given I have an account at Clerk
    And my browser holds a forged session token: missing-sid
    When I open the data page
    Then the response carries no API data
    And the API received no request
    And the API never received that token

  Scenario Outline: A forged session cookie on an API route gets no data: <variant>, <route>
    Given I have an account at Clerk
    And my browser holds a forged session token: <variant>
    When I fetch <route>
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    @SEC-201
    Examples: expired
      | variant | route                |
      | expired | the GET API route    |
      | expired | the POST API route   |
      | expired | the PUT API route    |
      | expired | the DELETE API route |

    @SEC-202
    Examples: not-yet-valid
      | variant       | route                |
      | not-yet-valid | the GET API route    |
      | not-yet-valid | the POST API route   |
      | not-yet-valid | the PUT API route    |
      | not-yet-valid | the DELETE API route |

    @SEC-203
    Examples: iat-in-future
      | variant       | route                |
      | iat-in-future | the GET API route    |
      | iat-in-future | the POST API route   |
      | iat-in-future | the PUT API route    |
      | iat-in-future | the DELETE API route |

    @SEC-204
    Examples: unknown-kid
      | variant     | route                |
      | unknown-kid | the GET API route    |
      | unknown-kid | the POST API route   |
      | unknown-kid | the PUT API route    |
      | unknown-kid | the DELETE API route |

    @SEC-205
    Examples: foreign-key
      | variant     | route                |
      | foreign-key | the GET API route    |
      | foreign-key | the POST API route   |
      | foreign-key | the PUT API route    |
      | foreign-key | the DELETE API route |

    @SEC-206
    Examples: alg-none
      | variant  | route                |
      | alg-none | the GET API route    |
      | alg-none | the POST API route   |
      | alg-none | the PUT API route    |
      | alg-none | the DELETE API route |

    @SEC-207
    Examples: hs256-public-key
      | variant          | route                |
      | hs256-public-key | the GET API route    |
      | hs256-public-key | the POST API route   |
      | hs256-public-key | the PUT API route    |
      | hs256-public-key | the DELETE API route |

    @SEC-208
    Examples: tampered-payload
      | variant          | route                |
      | tampered-payload | the GET API route    |
      | tampered-payload | the POST API route   |
      | tampered-payload | the PUT API route    |
      | tampered-payload | the DELETE API route |

    @SEC-209
    Examples: missing-sub
      | variant     | route                |
      | missing-sub | the GET API route    |
      | missing-sub | the POST API route   |
      | missing-sub | the PUT API route    |
      | missing-sub | the DELETE API route |

    @SEC-210
    Examples: missing-sid
      | variant     | route                |
      | missing-sid | the GET API route    |
      | missing-sid | the POST API route   |
      | missing-sid | the PUT API route    |
      | missing-sid | the DELETE API route |

    @SEC-211
    Examples: sts-pending
      | variant     | route                |
      | sts-pending | the GET API route    |
      | sts-pending | the POST API route   |
      | sts-pending | the PUT API route    |
      | sts-pending | the DELETE API route |

    @SEC-212
    Examples: other-instance
      | variant        | route                |
      | other-instance | the GET API route    |
      | other-instance | the POST API route   |
      | other-instance | the PUT API route    |
      | other-instance | the DELETE API route |

  Scenario Outline: A forged Bearer token on an API route gets no data: <variant>, <route>
    Given I have an account at Clerk
    And I send a forged session token as a Bearer header: <variant>
    When I fetch <route>
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    @SEC-301
    Examples: expired
      | variant | route                |
      | expired | the GET API route    |
      | expired | the POST API route   |
      | expired | the PUT API route    |
      | expired | the DELETE API route |

    @SEC-302
    Examples: not-yet-valid
      | variant       | route                |
      | not-yet-valid | the GET API route    |
      | not-yet-valid | the POST API route   |
      | not-yet-valid | the PUT API route    |
      | not-yet-valid | the DELETE API route |

    @SEC-303
    Examples: iat-in-future
      | variant       | route                |
      | iat-in-future | the GET API route    |
      | iat-in-future | the POST API route   |
      | iat-in-future | the PUT API route    |
      | iat-in-future | the DELETE API route |

    @SEC-304
    Examples: unknown-kid
      | variant     | route                |
      | unknown-kid | the GET API route    |
      | unknown-kid | the POST API route   |
      | unknown-kid | the PUT API route    |
      | unknown-kid | the DELETE API route |

    @SEC-305
    Examples: foreign-key
      | variant     | route                |
      | foreign-key | the GET API route    |
      | foreign-key | the POST API route   |
      | foreign-key | the PUT API route    |
      | foreign-key | the DELETE API route |

    @SEC-306
    Examples: alg-none
      | variant  | route                |
      | alg-none | the GET API route    |
      | alg-none | the POST API route   |
      | alg-none | the PUT API route    |
      | alg-none | the DELETE API route |

    @SEC-307
    Examples: hs256-public-key
      | variant          | route                |
      | hs256-public-key | the GET API route    |
      | hs256-public-key | the POST API route   |
      | hs256-public-key | the PUT API route    |
      | hs256-public-key | the DELETE API route |

    @SEC-308
    Examples: tampered-payload
      | variant          | route                |
      | tampered-payload | the GET API route    |
      | tampered-payload | the POST API route   |
      | tampered-payload | the PUT API route    |
      | tampered-payload | the DELETE API route |

    @SEC-309
    Examples: missing-sub
      | variant     | route                |
      | missing-sub | the GET API route    |
      | missing-sub | the POST API route   |
      | missing-sub | the PUT API route    |
      | missing-sub | the DELETE API route |

    @SEC-310
    Examples: missing-sid
      | variant     | route                |
      | missing-sid | the GET API route    |
      | missing-sid | the POST API route   |
      | missing-sid | the PUT API route    |
      | missing-sid | the DELETE API route |

    @SEC-311
    Examples: sts-pending
      | variant     | route                |
      | sts-pending | the GET API route    |
      | sts-pending | the POST API route   |
      | sts-pending | the PUT API route    |
      | sts-pending | the DELETE API route |

    @SEC-312
    Examples: other-instance
      | variant        | route                |
      | other-instance | the GET API route    |
      | other-instance | the POST API route   |
      | other-instance | the PUT API route    |
      | other-instance | the DELETE API route |

  Scenario Outline: A malformed session cookie on a page request sends me to sign in: <kind>
    Given I have an account at Clerk
    When I open the data page with a malformed session cookie: <kind>
    Then the API received no request
    And the API never received that token
    And I am sent to sign in, with a way back to the data page

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

  Scenario Outline: A malformed session cookie on an API route gets no data: <kind>, <route>
    Given I have an account at Clerk
    When I fetch <route> with a malformed session cookie: <kind>
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    @SEC-411
    Examples: not a JWT
      | kind      | route                |
      | not a JWT | the GET API route    |
      | not a JWT | the POST API route   |
      | not a JWT | the PUT API route    |
      | not a JWT | the DELETE API route |

    @SEC-412
    Examples: 16 KiB long
      | kind        | route                |
      | 16 KiB long | the GET API route    |
      | 16 KiB long | the POST API route   |
      | 16 KiB long | the PUT API route    |
      | 16 KiB long | the DELETE API route |

    @SEC-413
    Examples: non-ASCII
      | kind      | route                |
      | non-ASCII | the GET API route    |
      | non-ASCII | the POST API route   |
      | non-ASCII | the PUT API route    |
      | non-ASCII | the DELETE API route |

  Scenario Outline: A malformed Bearer token on an API route gets no data: <kind>, <route>
    Given I have an account at Clerk
    When I fetch <route> with a malformed Bearer header: <kind>
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    @SEC-421
    Examples: not a JWT
      | kind      | route                |
      | not a JWT | the GET API route    |
      | not a JWT | the POST API route   |
      | not a JWT | the PUT API route    |
      | not a JWT | the DELETE API route |

    @SEC-422
    Examples: 16 KiB long
      | kind        | route                |
      | 16 KiB long | the GET API route    |
      | 16 KiB long | the POST API route   |
      | 16 KiB long | the PUT API route    |
      | 16 KiB long | the DELETE API route |

    @SEC-423
    Examples: non-ASCII
      | kind      | route                |
      | non-ASCII | the GET API route    |
      | non-ASCII | the POST API route   |
      | non-ASCII | the PUT API route    |
      | non-ASCII | the DELETE API route |

  # My real, valid token, but in the URL (where it ends up in logs, history and Referer headers).
  @SEC-501
  Scenario: A session token in the query string does not sign me in on a page
    Given I have an account at Clerk
    When I open the data page with my session token in the query string
    Then the API received no request
    And the API never received that token
    And I am sent to sign in, with a way back to the page I opened

  @SEC-502
  Scenario Outline: A session token in the query string does not sign me in on an API route: <route>
    Given I have an account at Clerk
    When I fetch <route> with my session token in the query string
    Then the response carries no API data
    And the API received no request
    And the API never received that token

    Examples:
      | route                |
      | the GET API route    |
      | the POST API route   |
      | the PUT API route    |
      | the DELETE API route |

  # The replay brings back the cookies a copy taken before sign-out holds: the old token and its __client_uat
  # (replaying the token alone is sign-out.feature's SO-004).
  @SEC-601
  Scenario: After sign-out, my old token replayed once it expires is refused and never refreshed
    Given I am signed in
    When I sign out
    And I replay my old session cookies
    And 120 seconds pass
    And I open the data page
    Then the API received no request
    And Clerk issued no new session token for my session
    And I land on the sign-in page

  @SEC-602
  Scenario: After sign-out, my old token is not refreshed even with the refresh cookie
    Given I am signed in
    And I hold my refresh cookie
    When I sign out
    And I replay my old session cookies
    And 120 seconds pass
    And I open the data page
    Then the API received no request
    And Clerk issued no new session token for my session
    And I land on the sign-in page

  @SEC-603
  Scenario Outline: After sign-out, my old token replayed as a Bearer header once it expires gets no data: <route>
    Given I am signed in
    When I sign out
    And I replay my old session token as a Bearer header
    And 120 seconds pass
    And I fetch <route>
    Then the response carries no API data
    And the API received no request

    Examples:
      | route                |
      | the GET API route    |
      | the POST API route   |
      | the PUT API route    |
      | the DELETE API route |

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
