# Serial: "exactly one revoke, for my session" is read from mock-clerk's log by session id; with sign-outs
# running concurrently, an app that revokes the wrong session could by chance revoke each scenario's once.
@sign-out @serial
Feature: Server-side sign-out
  For server-side sign out, the API route revokes the session via Clerk's API, deletes the __session
  cookie and redirects to the sign-in page with a 307.

  @SO-001
  Scenario: Signing out revokes exactly my session at Clerk
    Given I am signed in
    When I sign out
    Then my session is revoked at Clerk
    And Clerk recorded exactly one revoke, for my session

  @SO-002
  Scenario: Signing out answers 307 to the sign-in page
    Given I am signed in
    When I sign out
    Then the sign-out answer is a 307 to the sign-in page

  @SO-003
  Scenario: Signing out deletes the __session cookie
    Given I am signed in
    When I sign out
    Then the __session cookie is deleted

  @SO-004
  Scenario: The old token, replayed after it expires, is refused and not refreshed
    Given I am signed in
    When I sign out
    And I replay my old session token
    And 120 seconds pass
    And I open the data page
    Then I am sent to sign in, with a way back to the data page
    And the API received no request

  @SO-005
  Scenario: Signing out leaves other sessions alone
    Given I am signed in
    And another session of mine is active
    When I sign out
    Then my other session is still active at Clerk
