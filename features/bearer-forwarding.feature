@bearer-forwarding
Feature: Bearer forwarding
  Server code gets the session token with auth().getToken() and the API client sends it as a Bearer token
  with Content-Type: application/json. Tokens stay on the server, never exposed to the client.

  @BF-001
  Scenario Outline: The API receives exactly my current session token
    Given I am signed in
    When I fetch <route>
    Then the API received 1 call behind <route>, each with my bearer token
    And each API request had Content-Type application/json

    Examples:
      | route                |
      | the GET API route    |
      | the POST API route   |
      | the PUT API route    |
      | the DELETE API route |

  @BF-002
  Scenario: The server-rendered page forwards my token
    Given I am signed in
    When I open the data page
    Then the API received 1 call behind the data page, each with my bearer token
    And each API request had Content-Type application/json

  @BF-003
  Scenario: After a refresh the API receives the new token, not the old one
    # Tokens minted within the same second are byte-identical (RS256 is deterministic), so the first token
    # the app sees is made 30 s older: the refreshed one then differs from it.
    Given I am signed in
    When 30 seconds pass
    And I open the data page
    And 120 seconds pass
    And I open the data page
    Then my session token was refreshed
    And the last API request carried my current token

  @BF-006
  Scenario: After a refresh no API call carries the expired token
    Given I am signed in
    When 120 seconds pass
    And I open the data page
    Then no API request carried an earlier token
    And the API received 1 call behind the data page, each with my bearer token

  @BF-004
  Scenario: The token never reaches the browser in the page or the RSC payload
    Given I am signed in
    When I open the data page
    And I request the RSC payload of the data page
    Then the page shows the API's data
    And no response body contained my session token

  @BF-005
  Scenario: The secret key never appears in any response
    Given I am signed in
    When I open the data page
    And I fetch the GET API route
    And I open the sign-in page
    And I sign out
    Then no response contained the secret key
