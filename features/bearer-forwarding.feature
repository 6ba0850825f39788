@bearer-forwarding
Feature: Bearer forwarding
  Server code gets the session token with auth().getToken() and the API client sends it as a Bearer token
  with Content-Type: application/json. Tokens stay on the server, never exposed to the client.

  @BF-001
  Scenario Outline: The API receives exactly my current session token
    Given I am signed in
    When I fetch <method> <route>
    Then the API received 1 <method> <downstream>, each with my bearer token
    And each API request had Content-Type application/json

    Examples:
      | method | route            | downstream   |
      | GET    | /api/schedules   | /schedules   |
      | POST   | /api/schedules   | /schedules   |
      | PUT    | /api/schedules/3 | /schedules/3 |
      | DELETE | /api/schedules/3 | /schedules/3 |

  @BF-002
  Scenario: The server-rendered page forwards my token
    Given I am signed in
    When I open /schedules
    Then the API received 1 GET /schedules, each with my bearer token
    And each API request had Content-Type application/json

  @BF-003
  Scenario: After a refresh the API receives the new token, not the old one
    # Tokens minted within the same second are byte-identical (RS256 is deterministic), so the first token
    # the app sees is made 30 s older: the refreshed one then differs from it.
    Given I am signed in
    When 30 seconds pass
    And I open /schedules
    And 120 seconds pass
    And I open /schedules
    Then my session token was refreshed
    And the last API request carried my current token

  @BF-006
  Scenario: After a refresh no API call carries the expired token
    Given I am signed in
    When 120 seconds pass
    And I open /schedules
    Then the API received 1 GET /schedules, each with my bearer token
    And no API request carried an earlier token

  @BF-004
  Scenario: The token never reaches the browser in the page or the RSC payload
    Given I am signed in
    When I open /schedules
    And I request the RSC payload of /schedules
    Then no response body contained my session token

  @BF-005
  Scenario: The secret key never appears in any response
    Given I am signed in
    When I open /schedules
    And I fetch GET /api/schedules
    And I open /auth/sign-in
    And I sign out
    Then no response contained the secret key
