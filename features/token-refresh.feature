@token-refresh
Feature: Token refresh
  Clerk automatically handles token refresh. Tokens are short-lived and refresh transparently when they
  expire. The application never needs to manually refresh tokens.

  @TR-001
  Scenario: An expired token on a page request is refreshed without signing in again
    Given I am signed in
    When 120 seconds pass
    And I open the data page
    Then I was not sent to sign in
    And the page shows the API's data
    And my session token was refreshed
    And the API received 1 call behind the data page, each with my bearer token

  @TR-002
  Scenario: An expired token is refreshed with the refresh cookie
    Given I am signed in
    And I hold my refresh cookie
    When 120 seconds pass
    And I open the data page
    Then the page shows the API's data
    And my session token was refreshed

  @TR-003
  Scenario: An expired token on an API fetch is treated as signed out
    Given I am signed in
    When 120 seconds pass
    And I fetch the GET API route
    Then the response carries no API data
    And the API received no request

  @TR-004
  Scenario: A revoked session is not refreshed
    Given I am signed in
    And my session is revoked at Clerk
    When 120 seconds pass
    And I open the data page
    Then I am sent to sign in, with a way back to the data page
    And the API received no request

  @TR-005
  Scenario: A token within its lifetime is used as is
    Given I am signed in
    When 30 seconds pass
    And I open the data page
    Then the page shows the API's data
    And the API received 1 call behind the data page, each with my bearer token
